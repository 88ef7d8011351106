import { Injectable, Logger } from '@nestjs/common';
import type { RawData } from 'ws';
import { CloseCode, CloseReason } from '../protocol/close-codes';
import { TEXT_EVENT } from '../protocol/endpoints';
import type { Connection } from './connection';
import { replyInOrder } from './replies';

/**
 * The per-message hot path, run for every frame on every endpoint before a gateway sees it.
 *
 * It replaces the stock adapter's per-message RxJS pipeline with plain calls: check the frame,
 * decode it for the endpoint's format, call the gateway's handler, and send the result in order.
 */
@Injectable()
export class MessageDispatcher {
  private readonly logger = new Logger(MessageDispatcher.name);

  dispatch(connection: Connection, data: RawData, isBinary: boolean): void {
    // Frames that arrive after the server started closing are never handled.
    if (!connection.isOpen) return;
    if (isBinary) {
      connection.close(CloseCode.UnsupportedData, CloseReason.BinaryNotSupported);
      return;
    }
    const text = (data as Buffer).toString();
    const handler = connection.handlers.get(TEXT_EVENT);
    if (!handler) {
      this.logger.warn(`No handler for text on endpoint ${connection.endpoint.name}`);
      return;
    }
    replyInOrder(connection, handler(text, TEXT_EVENT));
  }
}
