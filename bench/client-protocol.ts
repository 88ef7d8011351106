import type { SparseHistogram } from './histogram';

/**
 * What the bench runner (bench/run.ts) and a load-client process say to each other over the
 * Node IPC channel. The job travels as the client's only argument, in JSON.
 */

/** Request/reply on one endpoint: every connection keeps `inFlight` requests outstanding. */
export interface RequestReplyJob {
  readonly kind: 'echo' | 'json';
  readonly url: string;
  readonly connections: number;
  readonly inFlight: number;
  /** Bytes per request frame. */
  readonly size: number;
}

/**
 * One room: `senders` connect to `senderUrl`, `receivers` to `receiverUrls` in turn (receiver i to
 * `receiverUrls[i % length]`: another instance for the cross-instance scenarios). Every member
 * receives every message of every other sender; each sender keeps `inFlightPerSender` messages
 * that have not yet reached every member.
 */
export interface RoomJob {
  readonly kind: 'room';
  readonly senderUrl: string;
  readonly receiverUrls: readonly string[];
  readonly senders: number;
  readonly receivers: number;
  readonly inFlightPerSender: number;
  readonly size: number;
  /** A channel (/ws/subscribe/{channel}) rather than a room: senders receive their own messages. */
  readonly echoesToSender?: boolean;
}

/** Opens `connections` sockets, at most `concurrency` handshakes at a time, and holds them. */
export interface IdleJob {
  readonly kind: 'idle';
  readonly url: string;
  readonly connections: number;
  readonly concurrency: number;
  readonly size: number;
}

/** Sends `count` frames back to back on one connection and reports every reply. */
export interface BurstJob {
  readonly kind: 'burst';
  readonly url: string;
  readonly count: number;
  readonly size: number;
  /** How long to keep listening after the last expected reply, for extra frames. */
  readonly quietMs: number;
}

/**
 * Paced echo, measured: `echoConnections` sockets on `echoUrl`, each with one request at a time
 * and at most one every `echoIntervalMs` (under the default rate limit). Meanwhile `attackers`
 * sockets on `attackUrl` each send one of the costliest /ws/json frames (attack-payloads.ts,
 * up to `maxMessageBytes`) every `attackIntervalMs`; their replies are counted, not checked.
 */
export interface AttackJob {
  readonly kind: 'attack';
  readonly echoUrl: string;
  readonly echoConnections: number;
  readonly echoIntervalMs: number;
  readonly attackUrl: string;
  readonly attackers: number;
  readonly attackIntervalMs: number;
  readonly maxMessageBytes: number;
  readonly size: number;
}

/**
 * Many rooms (or channels) at once, each loaded and checked exactly as a RoomJob on its own, in
 * one process: deliveries and latencies are summed over the rooms.
 */
export interface RoomsJob {
  readonly kind: 'rooms';
  readonly rooms: readonly RoomJob[];
}

export type ClientJob = RequestReplyJob | RoomJob | RoomsJob | IdleJob | BurstJob | AttackJob;

/**
 * Runner → client. `go` starts traffic (the warm-up), each `mark` ends one interval (the first
 * ends the warm-up, the second the measured window), `verify` (idle) sends one echo per held
 * connection, `stop` drains, checks the counts and reports the result.
 */
export type RunnerCommand = { readonly type: 'go' | 'mark' | 'verify' | 'stop' };

/** Counts at one mark: `delivered` is cumulative, `at` is the client's performance.now(). */
export interface Mark {
  readonly at: number;
  readonly delivered: number;
}

export interface ThroughputResult {
  readonly kind: 'throughput';
  /** Messages sent by the client (requests, or room publishes). */
  readonly sent: number;
  /** Replies or room deliveries received, in total. */
  readonly delivered: number;
  /** Latencies (µs) of the measured window only: between the first and the second mark. */
  readonly latency: SparseHistogram;
  /**
   * Deliveries each sent message must produce (1 for request/reply, members - 1 for rooms; for
   * several rooms, the mean over them weighted by messages sent).
   */
  readonly fanOut: number;
}

export interface IdleResult {
  readonly kind: 'idle';
  readonly opened: number;
  /** Connections that answered the verification echo correctly. */
  readonly answered: number;
}

export interface BurstResult {
  readonly kind: 'burst';
  readonly replies: string[];
}

export type ClientResult = ThroughputResult | IdleResult | BurstResult;

/** Client → runner. `failed` carries every lost, duplicated or wrong frame found. */
export type ClientReport =
  | { readonly type: 'ready'; readonly connections: number }
  | { readonly type: 'marked'; readonly mark: Mark }
  | { readonly type: 'verified'; readonly answered: number }
  | { readonly type: 'done'; readonly result: ClientResult }
  | { readonly type: 'failed'; readonly problems: string[] };
