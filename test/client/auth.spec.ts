import { SystemClock } from '../../src/common/clock';
import { TokenSigner } from '../../src/auth/token-signer';
import { SwitchboardCloseError, type SwitchboardClient } from '../../client/src/index.js';
import { startApp, type RunningApp } from '../support/app';
import { nodeClient, reach } from './support';

const SECRET = 'client-spec-secret-0123456789abcdef';
const signer = new TokenSigner({ secret: SECRET }, new SystemClock());
const intruder = new TokenSigner({ secret: 'not-the-server-secret-0123456789' }, new SystemClock());

/** Tokens against the real server with AUTH_REQUIRED=true: refresh before exp, no retry storm. */
describe('SwitchboardClient tokens against the server', () => {
  let running: RunningApp;
  let upgrades = 0;
  let client: SwitchboardClient | undefined;

  beforeAll(async () => {
    running = await startApp({ AUTH_REQUIRED: 'true', JWT_SECRET: SECRET, RATE_LIMIT_MAX: '1000' });
    running.server.on('upgrade', () => upgrades++);
  });

  beforeEach(() => {
    upgrades = 0;
  });

  afterEach(() => {
    client?.close();
    client = undefined;
  });

  afterAll(async () => {
    await running?.close();
  });

  const url = () => `${running.wsUrl}/ws/json`;

  it('refreshes a short-lived token on the live socket before exp, and outlives the first token', async () => {
    const issued: string[] = [];
    client = nodeClient(url(), {
      getToken: () => {
        issued.push(signer.sign({ sub: 'alice' }, 3));
        return issued[issued.length - 1];
      },
      // Exp has whole seconds: refreshing at least a second later gives a later exp.
      refreshMarginMs: 2500,
    });
    await reach(client, 'open');
    const firstExpiryMs = 1000 * (JSON.parse(atob(issued[0].split('.')[1])) as { exp: number }).exp;
    // Past the first token's exp, the socket the server would have closed is still serving.
    while (Date.now() < firstExpiryMs + 300) {
      await expect(client.ping()).resolves.toEqual({});
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // At about half of each token's life: not a storm.
    expect(issued.length).toBeGreaterThanOrEqual(2);
    expect(issued.length).toBeLessThanOrEqual(5);
    expect(upgrades).toBe(1);
    expect(client.state).toBe('open');
  });

  it('refresh() answers the new exp from the server', async () => {
    client = nodeClient(url(), { token: signer.sign({ sub: 'bob' }, 60) });
    await reach(client, 'open');
    const reply = await client.refresh(signer.sign({ sub: 'bob' }, 600));
    expect(reply.exp).toBeGreaterThan(Date.now() / 1000 + 500);
  });

  it('stops after a refused token: one upgrade, the 1008 surfaced, no retries', async () => {
    client = nodeClient(url(), { token: intruder.sign({ sub: 'mallory' }, 60) });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await reach(client, 'closed');
    expect(errors).toEqual([new SwitchboardCloseError(1008, 'Token invalid')]);
    expect(upgrades).toBe(1);
  });

  it('stops when getToken yields the refused token again', async () => {
    const refused = intruder.sign({ sub: 'mallory' }, 60);
    let asked = 0;
    client = nodeClient(url(), {
      getToken: () => {
        asked++;
        return refused;
      },
    });
    await reach(client, 'closed');
    expect(upgrades).toBe(1);
    expect(asked).toBe(2);
  });

  it('stops without a token at all (Token missing)', async () => {
    client = nodeClient(url());
    const closes: unknown[] = [];
    client.on('disconnect', (event) => closes.push(event));
    await reach(client, 'closed');
    expect(closes).toEqual([{ code: 1008, reason: 'Token missing', willRetry: false }]);
    expect(upgrades).toBe(1);
  });
});
