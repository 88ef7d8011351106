import type { Environment } from '../../src/config/load-config';
import type { RunningApp } from '../support/app';
import { HistoryClient } from '../support/history-client';
import { TestClients } from '../support/ws-client';
import { expectDistinctInstances, startInstances, waitForReadiness } from './instances';

/** Two ready instances for the enclosing describe, with their /ws/json clients. */
export function useTwoInstances(env: () => Environment) {
  let a: RunningApp | undefined;
  let b: RunningApp | undefined;
  const started = (app: RunningApp | undefined) => {
    if (!app) throw new Error('The instances are not started yet');
    return app;
  };
  const onA = new TestClients(() => started(a).wsUrl);
  const onB = new TestClients(() => started(b).wsUrl);
  beforeAll(async () => {
    [a, b] = await startInstances(2, env());
    expectDistinctInstances(a, b);
    await waitForReadiness(a, 200, 5000);
    await waitForReadiness(b, 200, 5000);
  });
  afterEach(async () => {
    await Promise.all([onA.closeAll(), onB.closeAll()]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });
  return {
    a: () => started(a),
    b: () => started(b),
    onA,
    onB,
    open: async (clients: TestClients) => new HistoryClient(await clients.open('/ws/json')),
  };
}
