import type { Environment } from '../../src/config/load-config';
import { ConnectionRegistry } from '../../src/connections/connection-registry';
import { startApp, type RunningApp } from './app';

/**
 * The app under a property-based test, which can be replaced by a fresh one. An exception thrown
 * out of a socket's message handler leaves that socket unable ever to close (ws waits for its
 * receiver to finish a write that never will), so after a crash the app can neither serve the
 * next run nor close; a fresh app lets fast-check go on shrinking the crashing input.
 */
export class RestartableApp {
  private current?: RunningApp;
  /** Set by a test when the process crashed while this app served a run. */
  poisoned = false;

  constructor(private readonly env: Environment) {}

  async start(): Promise<void> {
    this.current = await startApp(this.env);
  }

  get running(): RunningApp {
    if (!this.current) throw new Error('The app is not started');
    return this.current;
  }

  /** Terminates every socket the app still holds (none after a passing run). */
  terminateAll(): void {
    if (this.current) terminateAll(this.current);
  }

  /** Abandons a poisoned app and starts a fresh one. */
  async restart(): Promise<void> {
    if (this.current) abandon(this.current);
    this.current = undefined;
    this.poisoned = false;
    await this.start();
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    if (this.poisoned) {
      abandon(current);
      return;
    }
    terminateAll(current);
    await current.close();
  }
}

function terminateAll(running: RunningApp): void {
  for (const connection of running.app.get(ConnectionRegistry)) connection.terminate();
}

/**
 * Drops every connection of a poisoned app, stops its listener, and starts closing the rest
 * without waiting: Nest's close would wait forever for the socket that cannot close (and never
 * reach the HTTP server, whose listener would then keep the process alive).
 */
function abandon(running: RunningApp): void {
  terminateAll(running);
  running.server.close();
  running.server.closeAllConnections();
  running.close().then(
    () => undefined,
    () => undefined, // the app is being thrown away: how its close ends does not matter
  );
}
