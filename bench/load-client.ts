/**
 * The load generator: one process, started by bench/run.ts with its job as argument (JSON) and
 * an IPC channel for commands (see client-protocol.ts). It counts exactly: every reply is matched
 * to its request in order, every room delivery to its sender and sequence number, and anything
 * lost, duplicated, reordered or wrong is reported as a problem, which makes the runner refuse
 * to report.
 */
import WebSocket, { type RawData } from 'ws';
import { attackPayloads } from './attack-payloads';
import type {
  AttackJob,
  BurstJob,
  ClientJob,
  ClientReport,
  ClientResult,
  IdleJob,
  Mark,
  RequestReplyJob,
  RoomJob,
  RoomsJob,
  RunnerCommand,
  ThroughputResult,
} from './client-protocol';
import { Histogram } from './histogram';

/** How long `stop` waits for the replies and deliveries still on their way. */
const DRAIN_TIMEOUT_MS = 15_000;
/** After draining, how long to keep listening for frames that should not come (duplicates). */
const QUIET_MS = 300;
/** Problems kept verbatim; past this many only the count grows. */
const MAX_PROBLEMS_KEPT = 20;

const problems: string[] = [];
let problemCount = 0;
/** Set once the client closes its sockets itself, so closes stop counting as problems. */
let closing = false;

function problem(description: string): void {
  problemCount++;
  if (problems.length < MAX_PROBLEMS_KEPT) problems.push(description);
}

function report(message: ClientReport, then?: () => void): void {
  if (!process.send) throw new Error('load-client must be started with an IPC channel');
  process.send(message, undefined, {}, () => then?.());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `done()` holds, polling; resolves false at the timeout. */
async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** `prefix` padded with "x" to `size` characters (all ASCII, so `size` bytes). */
function padded(prefix: string, size: number): string {
  return prefix.length >= size ? prefix : prefix + 'x'.repeat(size - prefix.length);
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function textOf(data: RawData, isBinary: boolean, who: string): string | undefined {
  if (isBinary) {
    problem(`${who}: unexpected binary frame`);
    return undefined;
  }
  return (data as Buffer).toString();
}

/** Opens one socket; after the open, any error or close before `closing` is a problem. */
function open(url: string, who: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const failed = (error: Error) => reject(new Error(`${who}: cannot connect: ${error.message}`));
    socket.once('error', failed);
    socket.once('open', () => {
      socket.off('error', failed);
      socket.on('error', (error) => problem(`${who}: socket error: ${error.message}`));
      socket.on('close', (code, reason) => {
        if (!closing) problem(`${who}: closed by the server (${code} ${reason.toString()})`);
      });
      resolve(socket);
    });
  });
}

/** Opens `count` sockets with at most `concurrency` handshakes in flight, in index order. */
async function openMany(
  count: number,
  concurrency: number,
  urlOf: (index: number) => string,
  who: (index: number) => string,
): Promise<WebSocket[]> {
  const sockets = new Array<WebSocket>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      sockets[index] = await open(urlOf(index), who(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sockets;
}

function terminateAll(sockets: readonly WebSocket[]): void {
  closing = true;
  for (const socket of sockets) socket.terminate();
}

/**
 * One kind of load. `connect` opens the sockets; `go` starts traffic; `mark` ends an interval
 * (the first mark starts the measured window, the second ends it); `stop` drains and checks.
 */
abstract class Load {
  protected running = false;
  protected measuring = false;
  protected delivered = 0;
  protected readonly latency = new Histogram();
  private marks = 0;

  abstract connect(): Promise<number>;
  abstract go(): void;
  abstract stop(): Promise<ClientResult>;

  mark(): Mark {
    this.marks++;
    this.measuring = this.marks === 1;
    if (this.measuring) this.latency.reset();
    return { at: performance.now(), delivered: this.delivered };
  }

  verify(): Promise<number> {
    return Promise.resolve(0);
  }
}

interface Pending {
  readonly expected: string;
  readonly sentAt: number;
}

interface Peer {
  readonly index: number;
  readonly socket: WebSocket;
  seq: number;
  /** Requests not yet answered, oldest first: replies come back in request order. */
  readonly pending: Pending[];
}

/** /ws echo and /ws/json ping: closed loop, `inFlight` requests outstanding per connection. */
class RequestReplyLoad extends Load {
  private peers: Peer[] = [];
  private sent = 0;

  constructor(private readonly job: RequestReplyJob) {
    super();
  }

  async connect(): Promise<number> {
    const sockets = await openMany(
      this.job.connections,
      50,
      () => this.job.url,
      (i) => `connection ${i}`,
    );
    this.peers = sockets.map((socket, index) => {
      const peer: Peer = { index, socket, seq: 0, pending: [] };
      socket.on('message', (data, isBinary) => this.onMessage(peer, data, isBinary));
      return peer;
    });
    return this.peers.length;
  }

  go(): void {
    this.running = true;
    for (const peer of this.peers) for (let i = 0; i < this.job.inFlight; i++) this.sendNext(peer);
  }

  async stop(): Promise<ClientResult> {
    this.running = false;
    const drained = await waitUntil(
      () => this.peers.every((peer) => peer.pending.length === 0),
      DRAIN_TIMEOUT_MS,
    );
    if (!drained) {
      const missing = this.peers.reduce((sum, peer) => sum + peer.pending.length, 0);
      problem(`${missing} replies never arrived (lost)`);
    }
    await sleep(QUIET_MS);
    terminateAll(this.peers.map((peer) => peer.socket));
    if (this.delivered !== this.sent) {
      problem(`${this.sent} requests sent but ${this.delivered} replies received`);
    }
    return {
      kind: 'throughput',
      sent: this.sent,
      delivered: this.delivered,
      latency: this.latency.toSparse(),
      fanOut: 1,
    };
  }

  private sendNext(peer: Peer): void {
    const seq = peer.seq++;
    const [request, expected] =
      this.job.kind === 'echo'
        ? echoRequest(peer.index, seq, this.job.size)
        : pingRequest(seq, this.job.size);
    peer.pending.push({ expected, sentAt: performance.now() });
    this.sent++;
    peer.socket.send(request);
  }

  private onMessage(peer: Peer, data: RawData, isBinary: boolean): void {
    const who = `connection ${peer.index}`;
    const text = textOf(data, isBinary, who);
    if (text === undefined) return;
    // The server's own heartbeat on /ws/json (every HEARTBEAT_INTERVAL_MS) answers no request.
    if (this.job.kind === 'json' && text === JSON_HEARTBEAT) return;
    // Replies come in request order, so this is the first entry unless replies went missing.
    const index = peer.pending.findIndex(
      ({ expected }) => text === expected || samePong(text, expected),
    );
    if (index === -1) {
      problem(
        `${who}: a frame no outstanding request asked for (duplicate or wrong): ${preview(text)}`,
      );
      return;
    }
    if (index > 0) {
      problem(
        `${who}: no reply to the ${index} request(s) sent before ${preview(text)} (lost or reordered)`,
      );
    }
    const pending = peer.pending.splice(0, index + 1)[index];
    this.delivered++;
    if (this.measuring) this.latency.record((performance.now() - pending.sentAt) * 1000);
    if (this.running) this.sendNext(peer);
  }
}

const JSON_HEARTBEAT = '{"type":"ping","data":{}}';

function echoRequest(connection: number, seq: number, size: number): [string, string] {
  const request = padded(`${connection}:${seq}:`, size);
  return [request, `Echo: ${request}`];
}

function pingRequest(seq: number, size: number): [string, string] {
  const head = `{"type":"ping","id":${seq},"payload":"`;
  const request = `${head}${'x'.repeat(Math.max(0, size - head.length - 2))}"}`;
  return [request, `{"type":"pong","data":{},"id":${seq}}`];
}

/** The same pong with the keys in another order or other spacing is still the right answer. */
function samePong(text: string, expected: string): boolean {
  if (!expected.startsWith('{"type":"pong"')) return false;
  try {
    const got = JSON.parse(text) as { type?: unknown; data?: unknown; id?: unknown };
    const want = JSON.parse(expected) as { id: number };
    const data = got.data;
    return (
      got.type === 'pong' &&
      got.id === want.id &&
      typeof data === 'object' &&
      data !== null &&
      Object.keys(data).length === 0 &&
      Object.keys(got).length === 3
    );
  } catch {
    return false; // not JSON at all: a mismatch, reported by the caller
  }
}

const PROBE_PREFIX = 'p:';
const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Room fan-out, closed loop. Members 0..senders-1 are the senders, the rest the receivers. A
 * frame is `sender:seq:sentAtMs:` padded; each member expects every other sender's sequence
 * numbers in order, each exactly once.
 */
class RoomLoad extends Load {
  private members: WebSocket[] = [];
  /** nextSeq[member * senders + sender]: the sequence number `member` expects next. */
  private nextSeq = new Int32Array(0);
  private readonly outstanding: Map<number, number>[] = [];
  private readonly sentBy: number[] = [];
  private readonly fanOut: number;
  private probed: boolean[] = [];

  constructor(private readonly job: RoomJob) {
    super();
    this.fanOut = job.senders - (job.echoesToSender ? 0 : 1) + job.receivers;
    for (let s = 0; s < job.senders; s++) {
      this.outstanding.push(new Map());
      this.sentBy.push(0);
    }
  }

  async connect(): Promise<number> {
    const { senders, receivers } = this.job;
    this.members = await openMany(
      senders + receivers,
      100,
      (i) =>
        i < senders
          ? this.job.senderUrl
          : this.job.receiverUrls[(i - senders) % this.job.receiverUrls.length],
      (i) => (i < senders ? `sender ${i}` : `receiver ${i - senders}`),
    );
    this.nextSeq = new Int32Array(this.members.length * senders);
    this.probed = this.members.map((_, i) => i === 0);
    this.members.forEach((socket, member) =>
      socket.on('message', (data, isBinary) => this.onMessage(member, data, isBinary)),
    );
    await this.probe();
    return this.members.length;
  }

  go(): void {
    this.running = true;
    for (let s = 0; s < this.job.senders; s++) {
      for (let i = 0; i < this.job.inFlightPerSender; i++) this.sendNext(s);
    }
  }

  async stop(): Promise<ClientResult> {
    this.running = false;
    const drained = await waitUntil(
      () => this.outstanding.every((messages) => messages.size === 0),
      DRAIN_TIMEOUT_MS,
    );
    if (!drained) {
      const open = this.outstanding.reduce((sum, messages) => sum + messages.size, 0);
      problem(`${open} messages never reached every member (deliveries lost)`);
    }
    await sleep(QUIET_MS);
    terminateAll(this.members);
    const { senders } = this.job;
    let short = 0;
    for (let member = 0; member < this.members.length; member++) {
      for (let s = 0; s < senders; s++) {
        if (s === member && !this.job.echoesToSender) continue;
        const got = this.nextSeq[member * senders + s];
        if (got !== this.sentBy[s]) short++;
      }
    }
    if (short > 0) problem(`${short} (member, sender) pairs did not receive every message`);
    const sent = this.sentBy.reduce((a, b) => a + b, 0);
    if (this.delivered !== sent * this.fanOut) {
      problem(`${sent} messages × ${this.fanOut} members ≠ ${this.delivered} deliveries`);
    }
    return {
      kind: 'throughput',
      sent,
      delivered: this.delivered,
      latency: this.latency.toSparse(),
      fanOut: this.fanOut,
    };
  }

  /**
   * Sends untracked probes from sender 0 until every other member has seen one, so no counted
   * message is published before the room (and, across instances, its Redis channel) is joined.
   */
  private async probe(): Promise<void> {
    const sender = this.members[0];
    const deadline = performance.now() + PROBE_TIMEOUT_MS;
    for (let k = 0; !this.probed.every(Boolean); k++) {
      if (performance.now() > deadline)
        throw new Error('the room never relayed a probe to everyone');
      sender.send(padded(`${PROBE_PREFIX}${k}:`, this.job.size));
      await waitUntil(() => this.probed.every(Boolean), PROBE_INTERVAL_MS);
    }
  }

  private sendNext(sender: number): void {
    const seq = this.sentBy[sender]++;
    this.outstanding[sender].set(seq, this.fanOut);
    const frame = padded(`${sender}:${seq}:${performance.now().toFixed(3)}:`, this.job.size);
    this.members[sender].send(frame);
  }

  private onMessage(member: number, data: RawData, isBinary: boolean): void {
    const { senders } = this.job;
    const who = member < senders ? `sender ${member}` : `receiver ${member - senders}`;
    const text = textOf(data, isBinary, who);
    if (text === undefined) return;
    if (text.startsWith(PROBE_PREFIX)) {
      this.probed[member] = true;
      return;
    }
    const a = text.indexOf(':');
    const b = text.indexOf(':', a + 1);
    const c = text.indexOf(':', b + 1);
    const sender = Number(text.slice(0, a));
    const seq = Number(text.slice(a + 1, b));
    const sentAt = Number(text.slice(b + 1, c));
    if (
      c === -1 ||
      text.length !== this.job.size ||
      !Number.isInteger(sender) ||
      sender < 0 ||
      sender >= senders ||
      (sender === member && !this.job.echoesToSender)
    ) {
      problem(`${who}: unexpected frame ${preview(text)}`);
      return;
    }
    const slot = member * senders + sender;
    const expected = this.nextSeq[slot];
    if (seq < expected) {
      problem(`${who}: message ${seq} of sender ${sender} again (duplicate)`);
      return;
    }
    if (seq > expected) {
      problem(
        `${who}: messages ${expected}..${seq - 1} of sender ${sender} skipped (lost or reordered)`,
      );
    }
    this.nextSeq[slot] = seq + 1;
    const left = this.outstanding[sender].get(seq);
    if (left === undefined) {
      problem(`${who}: message ${seq} of sender ${sender} after every member had it (duplicate)`);
      return;
    }
    this.delivered++;
    if (this.measuring) this.latency.record((performance.now() - sentAt) * 1000);
    if (left > 1) {
      this.outstanding[sender].set(seq, left - 1);
      return;
    }
    this.outstanding[sender].delete(seq);
    if (this.running) this.sendNext(sender);
  }
}

/**
 * Several rooms at once (RoomsJob), each a RoomLoad checked on its own; the counts, marks and
 * latency histograms are their sums.
 */
class RoomsLoad extends Load {
  private readonly rooms: RoomLoad[];

  constructor(job: RoomsJob) {
    super();
    this.rooms = job.rooms.map((room) => new RoomLoad(room));
  }

  async connect(): Promise<number> {
    const counts = await Promise.all(this.rooms.map((room) => room.connect()));
    return counts.reduce((a, b) => a + b, 0);
  }

  go(): void {
    for (const room of this.rooms) room.go();
  }

  override mark(): Mark {
    const marks = this.rooms.map((room) => room.mark());
    return { at: performance.now(), delivered: marks.reduce((sum, m) => sum + m.delivered, 0) };
  }

  async stop(): Promise<ClientResult> {
    const results = (await Promise.all(this.rooms.map((room) => room.stop()))).filter(
      (result): result is ThroughputResult => result.kind === 'throughput',
    );
    const sent = results.reduce((sum, result) => sum + result.sent, 0);
    const delivered = results.reduce((sum, result) => sum + result.delivered, 0);
    return {
      kind: 'throughput',
      sent,
      delivered,
      // Histogram.fromSparse adds up repeated buckets: the concatenation is the merged histogram.
      latency: results.flatMap((result) => result.latency),
      fanOut: sent === 0 ? 0 : delivered / sent,
    };
  }
}

/** Holds `connections` sockets; `verify` proves each one still answers an echo. */
class IdleLoad extends Load {
  private sockets: WebSocket[] = [];

  constructor(private readonly job: IdleJob) {
    super();
  }

  async connect(): Promise<number> {
    this.sockets = await openMany(
      this.job.connections,
      this.job.concurrency,
      () => this.job.url,
      (i) => `idle connection ${i}`,
    );
    return this.sockets.length;
  }

  go(): void {}

  override async verify(): Promise<number> {
    let answered = 0;
    this.sockets.forEach((socket, index) => {
      const request = padded(`v:${index}:`, this.job.size);
      const expected = `Echo: ${request}`;
      let replies = 0;
      socket.on('message', (data, isBinary) => {
        const text = textOf(data, isBinary, `idle connection ${index}`);
        replies++;
        if (replies > 1) problem(`idle connection ${index}: more than one reply`);
        else if (text !== expected) problem(`idle connection ${index}: got ${preview(text ?? '')}`);
        else answered++;
      });
      socket.send(request);
    });
    if (!(await waitUntil(() => answered === this.sockets.length, DRAIN_TIMEOUT_MS))) {
      problem(`${this.sockets.length - answered} idle connections never answered their echo`);
    }
    await sleep(QUIET_MS);
    return answered;
  }

  stop(): Promise<ClientResult> {
    terminateAll(this.sockets);
    return Promise.resolve({ kind: 'idle', opened: this.sockets.length, answered: 0 });
  }
}

/** The over-limit check: a burst on one connection, every reply kept verbatim. */
class BurstLoad extends Load {
  private socket?: WebSocket;
  private readonly replies: string[] = [];

  constructor(private readonly job: BurstJob) {
    super();
  }

  async connect(): Promise<number> {
    this.socket = await open(this.job.url, 'burst connection');
    this.socket.on('message', (data, isBinary) => {
      const text = textOf(data, isBinary, 'burst connection');
      if (text !== undefined) this.replies.push(text);
    });
    return 1;
  }

  go(): void {
    for (let i = 0; i < this.job.count; i++) {
      this.socket?.send(padded(`burst:${i}:`, this.job.size));
    }
  }

  async stop(): Promise<ClientResult> {
    await waitUntil(() => this.replies.length >= this.job.count, DRAIN_TIMEOUT_MS);
    await sleep(this.job.quietMs);
    if (this.socket) terminateAll([this.socket]);
    return { kind: 'burst', replies: [...this.replies] };
  }
}

/**
 * Paced echo under attack (see AttackJob): latency is measured on the echo connections only,
 * which are checked exactly like RequestReplyLoad's; the attackers' replies are only counted.
 */
class AttackLoad extends Load {
  private peers: Peer[] = [];
  private attackers: WebSocket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private sent = 0;
  private attacksSent = 0;
  private attackReplies = 0;

  constructor(private readonly job: AttackJob) {
    super();
  }

  async connect(): Promise<number> {
    const { echoConnections, echoUrl, attackers, attackUrl } = this.job;
    const sockets = await openMany(
      echoConnections,
      50,
      () => echoUrl,
      (i) => `echo connection ${i}`,
    );
    this.peers = sockets.map((socket, index) => {
      const peer: Peer = { index, socket, seq: 0, pending: [] };
      socket.on('message', (data, isBinary) => this.onEcho(peer, data, isBinary));
      return peer;
    });
    this.attackers = await openMany(
      attackers,
      50,
      () => attackUrl,
      (i) => `attacker ${i}`,
    );
    for (const attacker of this.attackers) attacker.on('message', () => this.attackReplies++);
    return this.peers.length + this.attackers.length;
  }

  go(): void {
    this.running = true;
    const { echoIntervalMs, attackIntervalMs } = this.job;
    // Spread over one interval, so the requests do not arrive in lockstep.
    this.peers.forEach((peer, i) => {
      const start = (echoIntervalMs * i) / this.peers.length;
      this.timers.push(setTimeout(() => this.sendEcho(peer), start));
    });
    const payloads = attackPayloads(this.job.maxMessageBytes);
    this.attackers.forEach((attacker, i) => {
      let next = i;
      const start = (attackIntervalMs * i) / this.attackers.length;
      this.timers.push(
        setTimeout(() => {
          const attack = () => {
            attacker.send(payloads[next++ % payloads.length]);
            this.attacksSent++;
          };
          attack();
          this.timers.push(setInterval(attack, attackIntervalMs));
        }, start),
      );
    });
  }

  async stop(): Promise<ClientResult> {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    const drained = await waitUntil(
      () => this.peers.every((peer) => peer.pending.length === 0),
      DRAIN_TIMEOUT_MS,
    );
    if (!drained) problem('echo replies never arrived (lost)');
    await sleep(QUIET_MS);
    terminateAll([...this.peers.map((peer) => peer.socket), ...this.attackers]);
    if (this.delivered !== this.sent) {
      problem(`${this.sent} echo requests sent but ${this.delivered} replies received`);
    }
    if (this.attackers.length > 0 && this.attackReplies === 0) {
      problem(`${this.attacksSent} attack frames sent and not one answered`);
    }
    return {
      kind: 'throughput',
      sent: this.sent,
      delivered: this.delivered,
      latency: this.latency.toSparse(),
      fanOut: 1,
    };
  }

  private sendEcho(peer: Peer): void {
    if (!this.running) return;
    const [request, expected] = echoRequest(peer.index, peer.seq++, this.job.size);
    peer.pending.push({ expected, sentAt: performance.now() });
    this.sent++;
    peer.socket.send(request);
  }

  private onEcho(peer: Peer, data: RawData, isBinary: boolean): void {
    const who = `echo connection ${peer.index}`;
    const text = textOf(data, isBinary, who);
    const pending = peer.pending.shift();
    if (text === undefined || pending === undefined || text !== pending.expected) {
      problem(`${who}: unexpected frame ${preview(text ?? '')}`);
      return;
    }
    this.delivered++;
    const now = performance.now();
    if (this.measuring) this.latency.record((now - pending.sentAt) * 1000);
    // At most one request per interval: the connection stays under the rate limit.
    const wait = Math.max(0, pending.sentAt + this.job.echoIntervalMs - now);
    this.timers.push(setTimeout(() => this.sendEcho(peer), wait));
  }
}

function loadFor(job: ClientJob): Load {
  switch (job.kind) {
    case 'echo':
    case 'json':
      return new RequestReplyLoad(job);
    case 'room':
      return new RoomLoad(job);
    case 'rooms':
      return new RoomsLoad(job);
    case 'idle':
      return new IdleLoad(job);
    case 'burst':
      return new BurstLoad(job);
    case 'attack':
      return new AttackLoad(job);
  }
}

function fail(reason: string): void {
  problem(reason);
  const all =
    problemCount > problems.length
      ? [...problems, `… and ${problemCount - problems.length} more`]
      : problems;
  report({ type: 'failed', problems: all }, () => process.exit(1));
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as ClientJob;
  const load = loadFor(job);
  let queue = Promise.resolve();
  process.on('message', (command: RunnerCommand) => {
    // Commands run one after another, in the order the runner sent them.
    queue = queue.then(() => run(command)).catch((error: unknown) => fail(String(error)));
  });
  // The runner gone means the bench is over: nothing left to report to.
  process.on('disconnect', () => process.exit(2));

  const run = async (command: RunnerCommand): Promise<void> => {
    switch (command.type) {
      case 'go':
        load.go();
        return;
      case 'mark':
        report({ type: 'marked', mark: load.mark() });
        return;
      case 'verify':
        report({ type: 'verified', answered: await load.verify() });
        return;
      case 'stop': {
        const result = await load.stop();
        if (problemCount > 0) fail('the run lost, duplicated or garbled messages');
        else report({ type: 'done', result }, () => process.exit(0));
        return;
      }
    }
  };

  const connections = await load.connect();
  report({ type: 'ready', connections });
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
