import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BusMessage } from './bus';
import type { PayloadBounds } from '../limits/payload-limits';
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeError } from './envelope';

/**
 * What an instance publishes on a Redis channel: the v1 envelope (envelope.ts), preceded when
 * BUS_SECRET is set by its HMAC-SHA256 in hex and a dot:
 *
 *     {"v":1,"origin":"<instance>",...}                 (no BUS_SECRET)
 *     <64 hex digits>.{"v":1,"origin":"<instance>",...}  (BUS_SECRET set)
 *
 * The MAC covers the channel and the exact envelope bytes sent
 * (`<channel byte length>\n<channel>\n<envelope>`), so a signed envelope cannot be replayed on
 * another topic. It does not stop a replay on the same channel: nothing in the envelope is
 * unique or timed.
 */
export const SIGNATURE_HEX_LENGTH = 64;

/**
 * Bytes an envelope may take beyond its data: version, origin, sender id, field names, and the
 * signature. Generous: ids are at most a few dozen characters.
 */
export const ENVELOPE_OVERHEAD_BYTES = 4096;

/**
 * JSON.stringify writes a control character of a client's text as `\u00XX`: six bytes for one.
 * A legitimate envelope therefore takes up to six times the frame it came from.
 */
const WORST_JSON_EXPANSION = 6;

/** Largest frame accepted from the bus, for a given MAX_MESSAGE_BYTES. */
export function maxFrameBytes(maxMessageBytes: number): number {
  return WORST_JSON_EXPANSION * maxMessageBytes + ENVELOPE_OVERHEAD_BYTES;
}

/** Why a frame from the bus was refused; stable, so it can label a counter. */
export type FrameRejection = EnvelopeError | 'too-large' | 'unsigned' | 'bad-signature';

export type FrameDecodeResult =
  | { readonly kind: 'own' }
  | { readonly kind: 'envelope'; readonly envelope: Envelope }
  | { readonly kind: 'rejected'; readonly reason: FrameRejection };

export interface BusFrameOptions {
  /** This instance's id: frames it published come back and are recognised by prefix. */
  readonly instance: string;
  /** BUS_SECRET: when set, frames are signed and unsigned or badly signed ones are refused. */
  readonly secret?: string;
  /** Frames longer than this many bytes are refused before they are decoded. */
  readonly maxBytes: number;
  /** MAX_PAYLOAD_DEPTH and MAX_PAYLOAD_ENTRIES for a message's data; default their defaults. */
  readonly payloadBounds?: PayloadBounds;
}

const DOT = 0x2e;
const OPEN_BRACE = 0x7b;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const OWN: FrameDecodeResult = { kind: 'own' };

/**
 * Encodes and checks bus frames. Checks run cheapest first, on the raw bytes, so a frame costs
 * no UTF-8 decoding, HMAC or JSON.parse until it has passed the cheaper ones:
 * own echo (prefix compare) → size → signature → JSON and envelope shape, depth included.
 */
export class BusFrameCodec {
  /** How every envelope this instance encodes begins: encodeEnvelope writes v, then origin. */
  private readonly ownPrefix: Buffer;

  constructor(private readonly options: BusFrameOptions) {
    this.ownPrefix = Buffer.from(`{"v":1,"origin":${JSON.stringify(options.instance)},`);
  }

  /** The frame for `message` on `channel`. Throws what JSON.stringify throws (a cycle, a BigInt). */
  encode(channel: string, message: BusMessage): string {
    const envelope = encodeEnvelope(this.options.instance, message);
    const { secret } = this.options;
    return secret === undefined ? envelope : `${sign(secret, channel, envelope)}.${envelope}`;
  }

  /**
   * Never throws: anything unusable comes back as a rejection with its reason. With `acceptOwn`
   * this instance's own frames are decoded too (history frames: every instance, the publishing
   * one included, delivers them when they come back with their offset).
   */
  decode(channel: string, frame: Buffer, acceptOwn = false): FrameDecodeResult {
    // An envelope is a JSON object: a frame that does not start with `{` may be signed.
    const signed = frame[0] !== OPEN_BRACE && frame[SIGNATURE_HEX_LENGTH] === DOT;
    const start = signed ? SIGNATURE_HEX_LENGTH + 1 : 0;
    if (!acceptOwn && startsWithAt(frame, this.ownPrefix, start)) return OWN;
    if (frame.length > this.options.maxBytes) return rejected('too-large');
    const { secret } = this.options;
    if (secret !== undefined) {
      if (!signed) return rejected('unsigned');
      const signature = frame.toString('latin1', 0, SIGNATURE_HEX_LENGTH);
      const body = frame.subarray(start);
      if (!HEX_SIGNATURE.test(signature) || !verify(secret, channel, body, signature)) {
        return rejected('bad-signature');
      }
    }
    const decoded = decodeEnvelope(frame.toString('utf8', start), this.options.payloadBounds);
    return decoded.ok ? { kind: 'envelope', envelope: decoded.envelope } : rejected(decoded.error);
  }
}

function rejected(reason: FrameRejection): FrameDecodeResult {
  return { kind: 'rejected', reason };
}

function startsWithAt(frame: Buffer, prefix: Buffer, offset: number): boolean {
  return (
    frame.length >= offset + prefix.length &&
    frame.compare(prefix, 0, prefix.length, offset, offset + prefix.length) === 0
  );
}

function mac(secret: string, channel: string, body: string | Buffer): Buffer {
  return createHmac('sha256', secret)
    .update(`${Buffer.byteLength(channel)}\n${channel}\n`)
    .update(body)
    .digest();
}

function sign(secret: string, channel: string, envelope: string): string {
  return mac(secret, channel, envelope).toString('hex');
}

/** Constant-time comparison: how much of a forged signature matches leaks nothing. */
function verify(secret: string, channel: string, body: Buffer, signature: string): boolean {
  return timingSafeEqual(mac(secret, channel, body), Buffer.from(signature, 'hex'));
}
