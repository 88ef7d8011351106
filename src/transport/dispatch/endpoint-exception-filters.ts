import type { ArgumentsHost } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA } from '@nestjs/common/constants';
import type { ExceptionFilterMetadata } from '@nestjs/common/interfaces/exceptions/exception-filter-metadata.interface';
import { ExceptionFiltersContext } from '@nestjs/websockets/context/exception-filters-context';
import { WsExceptionsHandler } from '@nestjs/websockets/exceptions/ws-exceptions-handler';
import { toClientError } from './ws-error.filter';

/**
 * Nest's exception handling for one gateway method, with WsErrorFilter's behaviour as the
 * fallback instead of BaseWsExceptionFilter (which calls `client.emit`: nothing reaches a `ws`
 * client that way).
 *
 * Custom filters are chosen exactly as stock Nest chooses them: method filters, then class
 * filters, each list last-declared first; the first whose @Catch matches wins and handles the
 * exception (it may send a frame itself through `host.switchToWs().getClient()`, or throw, in
 * which case what it throws takes the fallback). Only when none matches does the exception reach
 * the fallback, which rethrows it as a ClientError for the transport to send in the endpoint's
 * error shape and in request order (see replies.ts). A custom filter therefore always wins over
 * WsErrorFilter, whichever order the decorators were written in.
 */
export class EndpointExceptionsHandler extends WsExceptionsHandler {
  override handle(exception: unknown, host: ArgumentsHost): void {
    if (this.invokeCustomFilters(exception, host)) return;
    throw toClientError(exception);
  }
}

/** Nest's ExceptionFiltersContext (filters resolved as stock Nest does), building the handler above. */
export class EndpointExceptionFiltersContext extends ExceptionFiltersContext {
  override create(
    instance: object,
    callback: (...args: unknown[]) => unknown,
    moduleKey: string,
  ): EndpointExceptionsHandler {
    this.moduleContext = moduleKey;
    const handler = new EndpointExceptionsHandler();
    const filters = this.createContext<unknown[], ExceptionFilterMetadata[]>(
      instance,
      callback,
      EXCEPTION_FILTERS_METADATA,
    );
    if (filters.length > 0) handler.setCustomFilters(filters.reverse());
    return handler;
  }
}
