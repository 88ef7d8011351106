/** How long any single wait in the e2e tests may take before it fails the test. */
export const WAIT_MS = 2000;

/**
 * Settles like `promise`, or rejects after `timeoutMs` with a message naming `what` was awaited.
 * `onTimeout` runs first, to let the caller drop its pending state.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  onTimeout?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Polls `read` until it returns `expected`, for state that changes without an event a test can
 * await (registries updated on a server-side close). Bounded: fails after `timeoutMs`, showing
 * the last value read.
 */
export async function waitForValue<T>(
  read: () => T,
  expected: T,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!Object.is(value, expected)) {
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what} to be ${String(expected)}; ` +
          `it is ${String(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    value = read();
  }
}

/**
 * Polls `read` every 10 ms until `done` accepts its value, for state only an outside system
 * (Redis) can report, with no event to await. Rejects after `timeoutMs`, showing the last value.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}
