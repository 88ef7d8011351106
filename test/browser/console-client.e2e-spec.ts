import type { Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { describeWithChromium, LAUNCH_TIMEOUT_MS, launchOptions } from './chromium';
import { ConsolePage, PAGE_WAIT_MS } from './console-page';
import { startSameOriginApp, type SameOriginApp } from './same-origin-app';

const TEST_TIMEOUT_MS = 20_000;

/**
 * The console's /ws/json session runs on the client: with history on, it shows each message's
 * offset and the channel's last one, and after the server drops its socket it reconnects on its
 * own, counts it, and resumes the channel from its offset.
 */
describeWithChromium('browser console on the client', (executablePath) => {
  let app: SameOriginApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Every TCP connection the server accepted, to cut them all as a network failure would. */
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    app = await startSameOriginApp();
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    browser = await chromium.launch(launchOptions(executablePath()));
  }, LAUNCH_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    await browser?.close();
    await app?.close();
  });

  async function openConsole(): Promise<ConsolePage> {
    const context = await browser.newContext();
    contexts.push(context);
    return ConsolePage.open(context, `${app.origin}/`);
  }

  it(
    'shows offsets, reconnects after the server drops it, and resumes the channel',
    async () => {
      const [reader, writer] = await Promise.all([openConsole(), openConsole()]);
      await reader.connectAndWait('json');
      await reader.sendTemplate('subscribe', 'live');
      await reader.waitForReceived(/^\{"type":"subscribed","data":\{"channel":"live","epoch"/);
      await writer.connectAndWait('json');
      await writer.sendTemplate('publish', 'live');
      await writer.sendTemplate('publish', 'live');
      await reader.page.getByTestId('log-offset').nth(1).waitFor();
      expect(await reader.offsets()).toEqual(['#1', '#2']);
      expect(await reader.channels()).toEqual(['live: offset 2']);

      for (const socket of sockets) socket.destroy();
      await reader.waitForState('reconnecting');
      await reader.waitForState('open');
      await writer.waitForState('open');
      expect(await reader.page.getByTestId('reconnects').innerText()).toBe('1');
      // Resubscribed from where it was, and the next publication comes with the next offset.
      await reader.waitForReceived(
        /^\{"type":"subscribed","data":\{"channel":"live","epoch":"[^"]+","offset":2,"recovered":true,"publications":\[\]\}/,
      );
      await writer.sendTemplate('publish', 'live');
      await reader.page.getByTestId('log-offset').nth(2).waitFor({ timeout: PAGE_WAIT_MS });
      expect(await reader.offsets()).toEqual(['#1', '#2', '#3']);
      expect(await reader.channels()).toEqual(['live: offset 3']);
    },
    TEST_TIMEOUT_MS,
  );
});
