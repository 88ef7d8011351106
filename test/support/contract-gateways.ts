import {
  type ArgumentMetadata,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  type PipeTransform,
  UnauthorizedException,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ConnectedSocket, MessageBody, SubscribeMessage, WsException } from '@nestjs/websockets';
import { IsString } from 'class-validator';
import {
  catchError,
  concat,
  concatMap,
  from,
  map,
  type Observable,
  of,
  throwError,
  timer,
} from 'rxjs';
import { JwtAuthGuard } from '../../src/auth/jwt-auth.guard';
import { type EndpointDefinition, Endpoints, TEXT_EVENT } from '../../src/protocol/endpoints';
import type { Connection } from '../../src/transport/socket/connection';
import { upgradeRequestOf } from '../../src/transport/socket/connection-context';
import { EndpointGateway } from '../../src/transport/endpoint-gateway.decorator';
import { WsValidationPipe } from '../../src/transport/dispatch/ws-validation.pipe';

/**
 * Test-only gateways for the enhancer contract suite (test/enhancers.e2e-spec.ts): every kind of
 * Nest enhancer on text endpoints and on a JSON endpoint, on paths of their own beside the real
 * application. Their endpoints borrow the format (and metrics label) of /ws and /ws/json.
 */
const text = (path: string): EndpointDefinition => ({ ...Endpoints.echo, path });
export const ContractEndpoints = {
  plain: text('/contract/plain'),
  intercepted: text('/contract/intercepted'),
  guarded: text('/contract/guarded'),
  piped: text('/contract/piped'),
  interceptors: text('/contract/interceptors'),
  filtered: text('/contract/filtered'),
  json: { ...Endpoints.json, path: '/contract/json' } as EndpointDefinition,
};

/** What the enhancers saw, for the suite to read (one instance per app). */
@Injectable()
export class ContractRecorder {
  readonly connectionChecks: {
    type: string;
    gateway: string;
    client: string;
    url: string | undefined;
  }[] = [];
  messageChecks = 0;
  readonly steps: string[] = [];
}

/**
 * A user-written guard for a gateway class, as the README shows: it reads the client and the
 * upgrade request from the ExecutionContext. `?refuse=<reason>` throws a WsException,
 * `?unauthorized=<reason>` an UnauthorizedException, `?deny` answers false, `?later` answers
 * through a promise (`?later&deny` refuses that way), `?crash` throws a plain Error.
 */
@Injectable()
export class QueryGuard implements CanActivate {
  constructor(private readonly recorder: ContractRecorder) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const client = context.switchToWs().getClient<Connection>();
    const request = upgradeRequestOf(context);
    this.recorder.connectionChecks.push({
      type: context.getType(),
      gateway: context.getClass().name,
      client: client.endpoint.path,
      url: request?.url,
    });
    const query = new URL(request?.url ?? '/', 'http://localhost').searchParams;
    const refuse = query.get('refuse');
    if (refuse !== null) throw new WsException(refuse);
    const unauthorized = query.get('unauthorized');
    if (unauthorized !== null) throw new UnauthorizedException(unauthorized);
    if (query.has('crash')) throw new Error('guard bug');
    const allowed = !query.has('deny');
    if (query.has('later')) return new Promise((resolve) => setImmediate(() => resolve(allowed)));
    return allowed;
  }
}

/** Per message: refuses text starting with "deny" (false) or "reject" (a WsException). */
@Injectable()
export class MessageGuard implements CanActivate {
  constructor(private readonly recorder: ContractRecorder) {}

  canActivate(context: ExecutionContext): boolean {
    this.recorder.messageChecks++;
    const data: unknown = context.switchToWs().getData();
    const message = typeof data === 'string' ? data : JSON.stringify(data);
    if (message.includes('reject')) throw new WsException('Rejected by the guard');
    return !message.includes('deny');
  }
}

@Injectable()
export class PassThroughInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/**
 * Text scenarios, the same for the direct and the wrapped path: `value:x`, `promise:x`,
 * `observable:a,b,c` (async emissions), `ws-error:m`, `crash`, `observable-error:a`, `object`.
 */
function answer(message: string): unknown {
  const [kind, rest = ''] = splitOnce(message);
  switch (kind) {
    case 'value':
      return rest;
    case 'promise':
      return new Promise((resolve) => setImmediate(() => resolve(rest)));
    case 'observable':
      return from(rest.split(',')).pipe(concatMap((value) => timer(1).pipe(map(() => value))));
    case 'observable-error':
      return timer(1).pipe(
        concatMap(() =>
          concat(
            of(rest),
            throwError(() => new WsException('broken')),
          ),
        ),
      );
    case 'ws-error':
      throw new WsException(rest);
    case 'crash':
      throw new Error('a bug in the handler');
    case 'object':
      return { ok: true, echo: rest };
    default:
      return `unknown:${message}`;
  }
}

function splitOnce(message: string): [string, string?] {
  const colon = message.indexOf(':');
  return colon === -1 ? [message] : [message.slice(0, colon), message.slice(colon + 1)];
}

@EndpointGateway(ContractEndpoints.plain)
@UseGuards(QueryGuard)
export class PlainTextGateway {
  @SubscribeMessage(TEXT_EVENT)
  handle(@MessageBody() message: string): unknown {
    return answer(message);
  }
}

@EndpointGateway(ContractEndpoints.intercepted)
@UseGuards(QueryGuard)
export class InterceptedTextGateway {
  @SubscribeMessage(TEXT_EVENT)
  @UseInterceptors(PassThroughInterceptor)
  handle(@MessageBody() message: string): unknown {
    return answer(message);
  }
}

@EndpointGateway(ContractEndpoints.guarded)
export class GuardedTextGateway {
  @SubscribeMessage(TEXT_EVENT)
  @UseGuards(MessageGuard)
  handle(@MessageBody() message: string): string {
    return `allowed:${message}`;
  }
}

/** Pipes see only strings here; the socket parameter passes through untouched. */
abstract class StringPipe implements PipeTransform {
  transform(value: unknown, _metadata: ArgumentMetadata): unknown {
    return typeof value === 'string' ? this.transformText(value) : value;
  }
  protected abstract transformText(value: string): string;
}

@Injectable()
export class UpperCasePipe extends StringPipe {
  protected transformText(value: string): string {
    if (value === 'reject') throw new WsException('Rejected by the pipe');
    return value.toUpperCase();
  }
}

@Injectable()
export class ExclaimPipe extends StringPipe {
  protected transformText(value: string): string {
    return `${value}!`;
  }
}

@Injectable()
export class BracketPipe extends StringPipe {
  protected transformText(value: string): string {
    return `[${value}]`;
  }
}

/** Class pipe, then method pipe, then the parameter's: "ab" → "AB" → "AB!" → "[AB!]". */
@EndpointGateway(ContractEndpoints.piped)
@UsePipes(UpperCasePipe)
export class PipedTextGateway {
  @SubscribeMessage(TEXT_EVENT)
  @UsePipes(ExclaimPipe)
  handle(@MessageBody(BracketPipe) message: string): string {
    return message;
  }
}

@Injectable()
export class OuterInterceptor implements NestInterceptor {
  constructor(private readonly recorder: ContractRecorder) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    this.recorder.steps.push('class:before');
    return next.handle().pipe(
      map((value: unknown) => {
        this.recorder.steps.push('class:after');
        return value;
      }),
    );
  }
}

/**
 * By message (the text, or a JSON envelope's payload): `short` answers without calling the
 * handler; `map:x` maps the result; `catch:m` turns the handler's error into another WsException;
 * anything else passes through.
 */
@Injectable()
export class ScenarioInterceptor implements NestInterceptor {
  constructor(private readonly recorder: ContractRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const data: unknown = context.switchToWs().getData();
    const [kind] = splitOnce(typeof data === 'string' ? data : scenarioOf(data));
    this.recorder.steps.push('method:before');
    if (kind === 'short') {
      return of(typeof data === 'string' ? 'short-circuited' : { type: 'short-circuited' });
    }
    const result = next.handle().pipe(
      map((value: unknown) => {
        this.recorder.steps.push('method:after');
        return value;
      }),
    );
    if (kind === 'map') {
      return result.pipe(
        map((value) =>
          typeof value === 'string' ? `mapped(${value})` : { ...(value as object), mapped: true },
        ),
      );
    }
    if (kind === 'catch') {
      return result.pipe(
        catchError((error: WsException) =>
          throwError(() => new WsException(`caught(${error.message})`)),
        ),
      );
    }
    return result;
  }
}

/** The payload of a JSON envelope when it is a string; otherwise "". */
function scenarioOf(envelope: unknown): string {
  const payload = (envelope as { payload?: unknown } | null)?.payload;
  return typeof payload === 'string' ? payload : '';
}

@EndpointGateway(ContractEndpoints.interceptors)
@UseInterceptors(OuterInterceptor)
export class InterceptorsTextGateway {
  constructor(private readonly recorder: ContractRecorder) {}

  @SubscribeMessage(TEXT_EVENT)
  @UseInterceptors(ScenarioInterceptor)
  handle(@MessageBody() message: string): unknown {
    this.recorder.steps.push('handler');
    const [kind, rest = ''] = splitOnce(message);
    if (kind === 'catch') throw new WsException(rest);
    return rest || message;
  }
}

/** Catches WsExceptions and answers with a frame of its own. */
@Catch(WsException)
export class ClassWsFilter implements ExceptionFilter {
  catch(exception: WsException, host: ArgumentsHost): void {
    host.switchToWs().getClient<Connection>().sendText(`class filter: ${exception.message}`);
  }
}

/** Catches TypeErrors only. */
@Catch(TypeError)
export class MethodTypeErrorFilter implements ExceptionFilter {
  catch(exception: TypeError, host: ArgumentsHost): void {
    host.switchToWs().getClient<Connection>().sendText(`method filter: ${exception.message}`);
  }
}

/** `ws-error:m` reaches the class filter, `type-error` the method filter, `crash` the fallback. */
@EndpointGateway(ContractEndpoints.filtered)
@UseFilters(ClassWsFilter)
export class FilteredTextGateway {
  @SubscribeMessage(TEXT_EVENT)
  @UseFilters(MethodTypeErrorFilter)
  handle(@MessageBody() message: string): unknown {
    if (message === 'type-error') throw new TypeError('not a function');
    return answer(message);
  }
}

export class NameDto {
  @IsString()
  name!: string;
}

/** JSON scenarios take `{kind, value}` payloads; each reply is `{type: 'answer', data}`. */
interface Scenario {
  readonly kind: string;
  readonly value?: string;
}

function answerJson(payload: Scenario | undefined): unknown {
  const result = answer(`${payload?.kind ?? ''}:${payload?.value ?? ''}`);
  const wrap = (data: unknown) => ({ type: 'answer', data });
  if (result instanceof Promise) return result.then(wrap);
  if (typeof result === 'object' && result !== null && 'pipe' in result) {
    return (result as Observable<unknown>).pipe(map(wrap));
  }
  return wrap(result);
}

@EndpointGateway(ContractEndpoints.json)
@UseGuards(JwtAuthGuard, QueryGuard)
export class JsonContractGateway {
  constructor(private readonly recorder: ContractRecorder) {}

  @SubscribeMessage('plain')
  plain(@MessageBody('payload') payload: Scenario): unknown {
    return answerJson(payload);
  }

  @SubscribeMessage('intercepted')
  @UseInterceptors(PassThroughInterceptor)
  intercepted(@MessageBody('payload') payload: Scenario): unknown {
    return answerJson(payload);
  }

  @SubscribeMessage('guarded')
  @UseGuards(MessageGuard)
  guarded(@MessageBody('payload') payload: Scenario): unknown {
    return answerJson(payload);
  }

  @SubscribeMessage('dto')
  dto(@MessageBody('payload', WsValidationPipe) { name }: NameDto): unknown {
    return { type: 'hello', data: { name } };
  }

  @SubscribeMessage('mapped')
  @UseInterceptors(ScenarioInterceptor)
  mapped(@ConnectedSocket() client: Connection, @MessageBody() envelope: unknown): unknown {
    this.recorder.steps.push('handler');
    const [kind, rest = ''] = splitOnce(scenarioOf(envelope));
    if (kind === 'catch') throw new WsException(rest);
    return { type: 'answer', data: { endpoint: client.endpoint.path, envelope } };
  }

  /** JwtAuthGuard per message: only connections that authenticated at the upgrade. */
  @SubscribeMessage('whoami')
  @UseGuards(JwtAuthGuard)
  whoami(@ConnectedSocket() client: Connection): unknown {
    return { type: 'me', data: client.principal?.sub ?? null };
  }

  @SubscribeMessage('filtered')
  @UseFilters(ClassWsFilter)
  filtered(): never {
    throw new WsException('handled by a filter');
  }
}

/**
 * Enhancers registered globally. Stock Nest does not apply global enhancers to gateways (its
 * SocketModule builds the context creators without the application config); neither does
 * Switchboard, on either path, which the suite checks with these.
 */
@Injectable()
export class GlobalMappingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map(() => 'global interceptor ran'));
  }
}

@Injectable()
export class GlobalRefusingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getType() !== 'ws';
  }
}

@Injectable()
export class GlobalRefusingPipe implements PipeTransform {
  transform(): never {
    throw new WsException('global pipe ran');
  }
}

const gateways = [
  PlainTextGateway,
  InterceptedTextGateway,
  GuardedTextGateway,
  PipedTextGateway,
  InterceptorsTextGateway,
  FilteredTextGateway,
  JsonContractGateway,
];

@Module({ providers: [ContractRecorder, ...gateways] })
export class ContractModule {}

@Module({
  providers: [
    ContractRecorder,
    ...gateways,
    { provide: APP_INTERCEPTOR, useClass: GlobalMappingInterceptor },
    { provide: APP_GUARD, useClass: GlobalRefusingGuard },
    { provide: APP_PIPE, useClass: GlobalRefusingPipe },
  ],
})
export class ContractModuleWithGlobals {}
