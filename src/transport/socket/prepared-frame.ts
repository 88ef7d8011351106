import WebSocket from 'ws';

/**
 * The two pieces of ws's internal Sender this module uses. ws is pinned to an exact version in
 * package.json, and prepared-frame.spec.ts checks the bytes, so an upgrade that changes them
 * fails a test instead of corrupting frames.
 */
interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}
interface SenderInternals {
  /** 0 (DEFAULT) when nothing is queued: compression or blob reads are never in progress. */
  _state: number;
  sendFrame(list: readonly Buffer[]): void;
}
interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

const Sender = (WebSocket as unknown as { Sender: SenderStatic }).Sender;
const SENDER_IDLE = 0;
const TEXT_FRAME: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false };

/**
 * A text message encoded and framed once, whose bytes are written as they are to every
 * recipient of a broadcast. Server frames are never masked and compression is off, so the bytes
 * on the wire are the same for every socket; framing once saves ws's per-socket option objects,
 * header allocation and length checks.
 */
export class PreparedFrame {
  readonly parts: readonly Buffer[];

  constructor(readonly payload: Buffer) {
    this.parts = Sender.frame(payload, TEXT_FRAME);
  }

  static of(text: string): PreparedFrame {
    return new PreparedFrame(Buffer.from(text));
  }
}

/**
 * Writes a prepared frame to an open socket. Falls back to `send` when ws has frames queued on
 * that socket, so ordering with its queue is never broken.
 */
export function writePrepared(socket: WebSocket, frame: PreparedFrame): void {
  const sender = (socket as unknown as { _sender?: SenderInternals | null })._sender;
  if (sender && sender._state === SENDER_IDLE) sender.sendFrame(frame.parts);
  else socket.send(frame.payload, { binary: false });
}
