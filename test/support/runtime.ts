import { setFlagsFromString } from 'node:v8';
import { runInNewContext, runInThisContext } from 'node:vm';

/**
 * The worker's real `process`. Jest gives each test file a copy of it whose event listeners the
 * runtime never calls, so an 'uncaughtException' listener must be added to the original, which
 * code evaluated in the main V8 context sees as its global `process`.
 */
export function hostProcess(): NodeJS.Process {
  return runInThisContext('process') as NodeJS.Process;
}

/** A record of every uncaught exception and unhandled rejection in the process while it runs. */
export interface CrashWatch {
  readonly crashes: readonly string[];
  /** Calls `listener` with the report of each later crash; returns the unsubscribe function. */
  onCrash(listener: (report: string) => void): () => void;
  stop(): void;
}

/**
 * Listens for 'uncaughtException' and 'unhandledRejection' on the real process until `stop()`.
 * Jest's own listeners still fail the running test too; this record lets a test assert on the
 * count, print what happened and stop waiting for answers that will never come.
 */
export function watchCrashes(): CrashWatch {
  const host = hostProcess();
  const crashes: string[] = [];
  const listeners = new Set<(report: string) => void>();
  const record = (report: string) => {
    crashes.push(report);
    for (const listener of [...listeners]) listener(report);
  };
  const onException = (error: Error) => record(`uncaughtException: ${error.stack}`);
  const onRejection = (reason: unknown) =>
    record(`unhandledRejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
  host.on('uncaughtException', onException);
  host.on('unhandledRejection', onRejection);
  return {
    crashes,
    onCrash: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => {
      host.off('uncaughtException', onException);
      host.off('unhandledRejection', onRejection);
    },
  };
}

/**
 * The `gc` function, without starting Node with --expose-gc: the flag is switched on at runtime
 * and a new V8 context is created, which gets `gc` installed as a global at creation.
 */
export function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * `process.memoryUsage().heapUsed` after full collections. Collects until the heap stops
 * shrinking (at most `rounds` times), yielding to the event loop in between so that objects
 * released by pending callbacks (closed sockets, settled promises) are collectable.
 */
export async function heapUsedAfterGc(gc: () => void, rounds = 6): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  let heap = process.memoryUsage().heapUsed;
  for (let i = 0; i < rounds && heap < previous - 64 * 1024; i++) {
    previous = heap;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    heap = process.memoryUsage().heapUsed;
  }
  return heap;
}

/** Lines the application wrote to stdout or stderr while the capture ran. */
export interface OutputCapture {
  readonly lines: readonly string[];
  restore(): void;
}

/**
 * Captures what the application writes to stdout and stderr (Nest's logger writes there, and
 * the test apps log errors only), passing it through so it still shows in the test output.
 */
export function captureOutput(): OutputCapture {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    return jest.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    });
  });
  return {
    lines,
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
