import { chromium, type Browser, type Page } from 'playwright-core';
import type { SwitchboardClient } from '../../client/src/index.js';
import { describeWithChromium, LAUNCH_TIMEOUT_MS, launchOptions } from '../browser/chromium';
import { describeWithRedis } from '../support/redis';
import { nodeClient, publishAcrossKill, useTwoServerProcesses } from './support';

/**
 * failover.spec.ts from a Chromium page: the client bundle the console serves (/client.js),
 * loaded in the page, subscribed through instance A; A is killed mid-stream (SIGKILL) and the
 * page's client carries on through B with every acknowledged publication once, in order.
 */
describeWithRedis('the browser bundle across an instance kill', (redis) => {
  describeWithChromium('in Chromium', (executablePath) => {
    const { a, b, jsonUrl } = useTwoServerProcesses(() => redis().url);
    let browser: Browser | undefined;
    let publisher: SwitchboardClient | undefined;

    beforeAll(async () => {
      browser = await chromium.launch(launchOptions(executablePath()));
    }, LAUNCH_TIMEOUT_MS);

    afterAll(async () => {
      publisher?.close();
      await browser?.close();
    });

    /** Resolves once the page's client has received `count` publications. */
    async function pageReceived(page: Page, count: number): Promise<void> {
      await page.waitForFunction(`window.received.length >= ${count}`, undefined, {
        timeout: 10_000,
        polling: 10,
      });
    }

    it('receives every acknowledged publication exactly once, in order', async () => {
      if (!browser) throw new Error('Chromium did not start');
      // The page's CSP allows sockets to its own origin only; B is another port.
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${a().port}/`, { waitUntil: 'load' });
      // A string, not a function: the tests compile without the DOM library.
      await page.evaluate(`(async () => {
        const { SwitchboardClient } = await import('/client.js');
        window.received = [];
        window.states = [];
        const client = new SwitchboardClient(${JSON.stringify([jsonUrl(a()), jsonUrl(b())])}, {
          minDelayMs: 20,
          maxDelayMs: 200,
        });
        client.on('state', (state) => window.states.push(state));
        await client.subscribe('browser-failover', (message, offset) =>
          window.received.push({ offset, message }),
        );
      })()`);

      publisher = nodeClient(jsonUrl(b()));
      const TOTAL = 150;
      const acknowledged = await publishAcrossKill({
        publisher,
        channel: 'browser-failover',
        total: TOTAL,
        killAt: 50,
        subscriberReceived: (count) => pageReceived(page, count),
        kill: () => a().kill(),
      });
      await pageReceived(page, TOTAL);
      expect(await page.evaluate('window.received')).toEqual(acknowledged);
      // 'connecting' came from the constructor, before the listener.
      expect(await page.evaluate('window.states')).toEqual(['open', 'reconnecting', 'open']);
      await context.close();
    });
  });
});
