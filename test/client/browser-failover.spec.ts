import { chromium, type Browser, type Page } from 'playwright-core';
import type { JsonValue, SwitchboardClient } from '../../client/src/index.js';
import { describeWithChromium, LAUNCH_TIMEOUT_MS, launchOptions } from '../browser/chromium';
import { describeWithRedis, uniquePrefix } from '../support/redis';
import { ensureBuilt, startServerProcess, type ServerProcess } from '../support/server-process';
import { nodeClient, untilReady } from './support';

/**
 * failover.spec.ts from a Chromium page: the client bundle the console serves (/client.js),
 * loaded in the page, subscribed through instance A; A is killed mid-stream (SIGKILL) and the
 * page's client carries on through B with every acknowledged publication once, in order.
 */
describeWithRedis('the browser bundle across an instance kill', (redis) => {
  describeWithChromium('in Chromium', (executablePath) => {
    let a: ServerProcess | undefined;
    let b: ServerProcess | undefined;
    let browser: Browser | undefined;
    let publisher: SwitchboardClient | undefined;

    beforeAll(async () => {
      ensureBuilt();
      const env = {
        REDIS_URL: redis().url,
        REDIS_PREFIX: uniquePrefix(),
        RATE_LIMIT_MAX: '1000000',
        HISTORY_SIZE: '1000',
      };
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      await Promise.all([untilReady(a.port), untilReady(b.port)]);
      browser = await chromium.launch(launchOptions(executablePath()));
    }, LAUNCH_TIMEOUT_MS + 60_000);

    afterAll(async () => {
      publisher?.close();
      await browser?.close();
      for (const server of [a, b]) server?.kill();
      await Promise.all([a?.exited, b?.exited]);
    });

    /** Resolves once the page's client has received `count` publications. */
    async function pageReceived(page: Page, count: number): Promise<void> {
      await page.waitForFunction(`window.received.length >= ${count}`, undefined, {
        timeout: 10_000,
        polling: 10,
      });
    }

    it('receives every acknowledged publication exactly once, in order', async () => {
      const urlOf = (server?: ServerProcess) => `ws://127.0.0.1:${server?.port}/ws/json`;
      // The page's CSP allows sockets to its own origin only; B is another port.
      const context = await browser!.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${a?.port}/`, { waitUntil: 'load' });
      // A string, not a function: the tests compile without the DOM library.
      await page.evaluate(`(async () => {
        const { SwitchboardClient } = await import('/client.js');
        window.received = [];
        window.states = [];
        const client = new SwitchboardClient(${JSON.stringify([urlOf(a), urlOf(b)])}, {
          minDelayMs: 20,
          maxDelayMs: 200,
        });
        client.on('state', (state) => window.states.push(state));
        await client.subscribe('browser-failover', (message, offset) =>
          window.received.push({ offset, message }),
        );
      })()`);

      publisher = nodeClient(urlOf(b));
      const TOTAL = 150;
      const KILL_AT = 50;
      const acknowledged: { offset: number | undefined; message: JsonValue }[] = [];
      for (let n = 1; n <= TOTAL; n++) {
        const reply = await publisher.publish('browser-failover', { n });
        acknowledged.push({ offset: reply.offset, message: { n } });
        if (n === KILL_AT) {
          await pageReceived(page, KILL_AT);
          a?.kill();
        }
      }
      await pageReceived(page, TOTAL);
      expect(await page.evaluate('window.received')).toEqual(acknowledged);
      // 'connecting' came from the constructor, before the listener.
      expect(await page.evaluate('window.states')).toEqual(['open', 'reconnecting', 'open']);
      await context.close();
    });
  });
});
