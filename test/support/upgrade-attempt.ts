import WebSocket from 'ws';
import { withTimeout, WAIT_MS } from './wait';

export interface UpgradeAttemptOptions {
  /** Sent as X-Forwarded-For. */
  readonly forwardedFor?: string;
  /** Source address of the TCP connection, e.g. 127.0.0.2 (any 127/8 address is local). */
  readonly localAddress?: string;
}

/** An upgrade's answer: 101 with the open socket, or the refusing HTTP status. */
export interface UpgradeAttempt {
  readonly status: number;
  /** Open when status is 101; close it when done (`closeAll`). */
  readonly socket: WebSocket;
}

/** Tries one upgrade to `url` and resolves with how the server answered. */
export async function attemptUpgrade(
  url: string,
  options: UpgradeAttemptOptions = {},
  timeoutMs = WAIT_MS,
): Promise<UpgradeAttempt> {
  const socket = new WebSocket(url, {
    localAddress: options.localAddress,
    headers: options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor },
  });
  const answered = new Promise<UpgradeAttempt>((resolve, reject) => {
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      socket.terminate();
      resolve({ status: response.statusCode ?? 0, socket });
    });
    socket.once('error', reject);
  });
  try {
    return await withTimeout(answered, timeoutMs, `an answer to the upgrade to ${url}`);
  } catch (error) {
    socket.terminate();
    throw error;
  }
}

/** `count` upgrades one after the other; resolves with their statuses in order. */
export async function attemptUpgrades(
  url: string,
  count: number,
  options: UpgradeAttemptOptions = {},
): Promise<UpgradeAttempt[]> {
  const attempts: UpgradeAttempt[] = [];
  for (let i = 0; i < count; i++) attempts.push(await attemptUpgrade(url, options));
  return attempts;
}

/** Closes every socket of `attempts` and waits until each has closed. */
export async function closeAll(attempts: readonly UpgradeAttempt[]): Promise<void> {
  await Promise.all(
    attempts.map(({ socket }) => {
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.close();
      return withTimeout(closed, WAIT_MS, 'a test socket to close');
    }),
  );
}

export const statuses = (attempts: readonly UpgradeAttempt[]): number[] =>
  attempts.map((attempt) => attempt.status);
