import { Logger } from '@nestjs/common';
import type { Peer } from './peer';
import type { PreparedFrame } from './prepared-frame';

const logger = new Logger('FanOut');

/**
 * Writes a frame prepared once for the whole broadcast to one socket, without waiting for it.
 *
 * ws queues the write on that socket alone, so a slow recipient never delays the next one (and
 * one that falls too far behind is shed, see Connection.sendText). A recipient that has closed,
 * even during the broadcast loop, is skipped; a send that throws is logged and reported as not
 * sent, so the loop goes on. Returns whether the payload was queued.
 */
export function sendPrepared(socket: Peer, frame: PreparedFrame): boolean {
  try {
    return socket.sendFrame(frame);
  } catch (error) {
    logger.warn(`Send to connection ${socket.id} failed: ${(error as Error).message}`);
    return false;
  }
}
