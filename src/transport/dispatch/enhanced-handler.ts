import type {
  ArgumentMetadata,
  CallHandler,
  CanActivate,
  NestInterceptor,
  PipeTransform,
  Type,
} from '@nestjs/common';
import { FORBIDDEN_MESSAGE } from '@nestjs/core/guards/constants';
import { ContextUtils } from '@nestjs/core/helpers/context-utils';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ParamsTokenFactory } from '@nestjs/core/pipes/params-token-factory';
import { WsException } from '@nestjs/websockets';
import {
  catchError,
  defer,
  EMPTY,
  from,
  isObservable,
  lastValueFrom,
  mergeAll,
  type Observable,
  of,
} from 'rxjs';
import type { Connection } from '../socket/connection';
import type { EndpointExceptionsHandler } from './endpoint-exception-filters';

type Maybe<T> = T | Promise<T>;

/** One handler parameter as Nest's WsContextCreator resolves it (getParamsMetadata). */
export interface ResolvedParam {
  readonly index: number;
  readonly type: number | string;
  readonly data?: unknown;
  readonly metatype?: unknown;
  readonly pipes: PipeTransform[];
  readonly extractValue: (...args: unknown[]) => unknown;
}

/** Everything Nest resolved for one handler at boot (see gateway-handlers.ts). */
export interface HandlerEnhancers {
  readonly instance: object;
  readonly callback: (...args: unknown[]) => unknown;
  readonly pattern: string;
  readonly argsLength: number;
  readonly params: readonly ResolvedParam[];
  /** Global (none for gateways), class and method pipes, applied to every parameter first. */
  readonly pipes: readonly PipeTransform[];
  /** Method guards only: class guards run per connection. */
  readonly guards: readonly CanActivate[];
  readonly interceptors: readonly NestInterceptor[];
  readonly exceptions: EndpointExceptionsHandler;
}

const tokens = new ParamsTokenFactory();
const contextUtils = new ContextUtils();

/**
 * A gateway handler with its enhancers, run with the semantics of Nest's WsContextCreator,
 * GuardsConsumer, PipesConsumer, InterceptorsConsumer and WsProxy, step for step: method guards
 * in order (false → WsException "Forbidden resource"); then the interceptors, outermost first,
 * each handed a `next.handle()` that runs the next one; at the end of the chain the parameter
 * pipes (global, class, method, then the parameter's own, in order) and the handler, whose value,
 * promise or observable becomes the chain's observable; any error, from a guard, pipe,
 * interceptor or handler, goes to the exception filters (EndpointExceptionsHandler).
 *
 * What differs is only the cost: Nest awaits every step and wraps each interceptor call in
 * `AsyncResource.bind`, so a handler costs several promises and, on Node 20, a deprecation
 * getter per call, even when every enhancer answers synchronously. Here a step that answers
 * synchronously continues synchronously; a promise from any step switches to the asynchronous
 * continuation at that point. The result is a value, a promise or an observable for replies.ts.
 */
export function enhancedHandler(
  enhancers: HandlerEnhancers,
): (connection: Connection, data: unknown, event: string) => unknown {
  const { instance, callback, pattern, guards, interceptors, exceptions } = enhancers;
  const classRef = instance.constructor as Type;
  const params = enhancers.params.map((param) => ({
    ...param,
    metadata: {
      metatype: param.metatype,
      type: tokens.exchangeEnumForString(Number(param.type)),
      data: param.data,
    } as ArgumentMetadata,
    allPipes: [...enhancers.pipes, ...param.pipes],
  }));

  const handleError = (error: unknown, args: unknown[]): undefined => {
    const host = new ExecutionContextHost(args);
    host.setType('ws');
    exceptions.handle(error, host); // a custom filter answers, or the fallback rethrows
    return undefined;
  };

  /** The parameter pipes, then the handler (WsContextCreator's `handler`). */
  const callHandler = (args: unknown[]): unknown => {
    if (params.length === 0) return callback.apply(instance, args);
    const values: unknown[] = contextUtils.createNullArray(enhancers.argsLength);
    let pending: Promise<void>[] | undefined;
    let failure: { error: unknown } | undefined;
    // Every parameter's pipes start even after one failed, and a synchronous failure wins, as
    // with Nest's Promise.all over the parameters (an async function that throws has rejected
    // before any other settles).
    for (const param of params) {
      try {
        const value = param.extractValue(...args);
        const piped =
          param.allPipes.length > 0 ? runPipes(value, param.metadata, param.allPipes) : value;
        if (piped instanceof Promise) {
          (pending ??= []).push(piped.then((resolved) => void (values[param.index] = resolved)));
        } else {
          values[param.index] = piped;
        }
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) {
      for (const settling of pending ?? []) settling.catch(ignore);
      throw failure.error;
    }
    if (pending) return Promise.all(pending).then(() => callback.apply(instance, values));
    return callback.apply(instance, values);
  };

  const intercepted = (args: unknown[]): unknown => {
    if (interceptors.length === 0) return callHandler(args);
    const context = new ExecutionContextHost(args, classRef, callback);
    context.setType('ws');
    const next = (index: number): Observable<unknown> => {
      if (index >= interceptors.length) return defer(() => resultOf(callHandler(args)));
      const handler: CallHandler = { handle: () => defer(() => next(index + 1)) };
      return flatten(interceptors[index].intercept(context, handler));
    };
    return next(0);
  };

  /** WsProxy: errors of every step, thrown, rejected or emitted, go to the filters. */
  const guarded = (result: unknown, args: unknown[]): unknown => {
    if (isObservable(result)) {
      return result.pipe(catchError((error: unknown) => (handleError(error, args), EMPTY)));
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => guarded(value, args),
        (error: unknown) => handleError(error, args),
      );
    }
    return result;
  };

  return (connection, data, event) => {
    const args: unknown[] = [connection, data, event, pattern];
    try {
      const allowed = guards.length > 0 ? activate(guards, args, instance, callback) : undefined;
      if (allowed instanceof Promise) {
        return allowed.then(
          () => guarded(intercepted(args), args),
          (error: unknown) => handleError(error, args),
        );
      }
      return guarded(intercepted(args), args);
    } catch (error) {
      return handleError(error, args);
    }
  };
}

/** Stock Nest reports only the first failure among the parameters; the others are dropped. */
function ignore(): void {}

/** GuardsConsumer.tryActivate, then WsContextCreator's refusal. */
function activate(
  guards: readonly CanActivate[],
  args: unknown[],
  instance: object,
  callback: (...args: unknown[]) => unknown,
): Maybe<void> {
  const context = new ExecutionContextHost(args, instance.constructor as Type, callback);
  context.setType('ws');
  const from = (index: number): Maybe<void> => {
    for (let i = index; i < guards.length; i++) {
      const result = guards[i].canActivate(context);
      if (typeof result === 'boolean') {
        if (!result) throw new WsException(FORBIDDEN_MESSAGE);
        continue;
      }
      return settleGuard(result).then((allowed) => {
        if (!allowed) throw new WsException(FORBIDDEN_MESSAGE);
        return from(i + 1);
      });
    }
    return undefined;
  };
  return from(0);
}

/** A guard's asynchronous answer: a promise, or an observable's last value (GuardsConsumer). */
export async function settleGuard(
  result: Promise<boolean> | Observable<boolean>,
): Promise<boolean> {
  const value: unknown = await result;
  return Boolean(isObservable(value) ? await lastValueFrom(value) : value);
}

/** PipesConsumer.applyPipes: each pipe gets the previous one's (awaited) value. */
function runPipes(
  value: unknown,
  metadata: ArgumentMetadata,
  pipes: readonly PipeTransform[],
  index = 0,
): unknown {
  for (let i = index; i < pipes.length; i++) {
    const result: unknown = pipes[i].transform(value, metadata);
    if (result instanceof Promise) {
      return result.then((resolved: unknown) => runPipes(resolved, metadata, pipes, i + 1));
    }
    value = result;
  }
  return value;
}

/** An interceptor may answer an observable or a promise of one (InterceptorsConsumer). */
function flatten(result: Observable<unknown> | Promise<Observable<unknown>>): Observable<unknown> {
  return result instanceof Promise ? from(result).pipe(mergeAll()) : result;
}

/**
 * The handler's result as the end of the interceptor chain (transformDeferred): an observable as
 * it is, a promise's value, or the value itself.
 */
function resultOf(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  if (result instanceof Promise) {
    return from(result.then((value: unknown) => (isObservable(value) ? value : of(value)))).pipe(
      mergeAll(),
    );
  }
  return of(result);
}
