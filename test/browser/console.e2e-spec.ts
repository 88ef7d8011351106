import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { describeWithChromium, LAUNCH_TIMEOUT_MS, launchOptions } from './chromium';
import { ConsolePage } from './console-page';
import { startSameOriginApp, type SameOriginApp } from './same-origin-app';

/**
 * The browser console in a real Chromium, against the real app with ALLOWED_ORIGINS set to the
 * page's own origin: every socket below passes the Origin check because the page builds its URL
 * from `location`, and the last-but-one test shows that another origin is refused.
 */

/** Each test opens pages and waits several times, each wait bounded by PAGE_WAIT_MS. */
const TEST_TIMEOUT_MS = 20_000;

const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'console.png');

/**
 * Page script that writes the README's `localhost:3000` in place of the page's host in every
 * text. A string, not a function: the tests compile without the DOM library.
 */
const SHOW_README_HOST = `{
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    node.textContent = node.textContent.replaceAll(location.host, 'localhost:3000');
  }
}`;

describeWithChromium('browser console in Chromium', (executablePath) => {
  let app: SameOriginApp;
  let browser: Browser;
  /** The contexts of the current test: one per page, like two people at two browsers. */
  let contexts: BrowserContext[];
  let pages: ConsolePage[];

  beforeAll(async () => {
    // Channels without history: the replies below (and the screenshot) carry no random epoch.
    app = await startSameOriginApp({ HISTORY_SIZE: '0' });
    browser = await chromium.launch(launchOptions(executablePath()));
  }, LAUNCH_TIMEOUT_MS + 10_000);

  beforeEach(() => {
    contexts = [];
    pages = [];
  });

  afterEach(async () => {
    const problems = pages.flatMap((page) => page.problems);
    await Promise.all(contexts.map((context) => context.close()));
    // Uncaught exceptions and console errors (a CSP violation, say) fail the test that caused them.
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /**
   * Opens the console in a context of its own. Pages sharing a context share a window, where all
   * but the front one are background tabs that Chromium throttles.
   */
  async function openConsole(url = `${app.origin}/`): Promise<ConsolePage> {
    // Fixed viewport, time zone and locale, so the screenshot only changes when the page does.
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      timezoneId: 'UTC',
      locale: 'en-US',
    });
    contexts.push(context);
    const page = await ConsolePage.open(context, url);
    pages.push(page);
    return page;
  }

  it(
    'relays room messages between two pages, each seeing the other’s and not its own',
    async () => {
      const [alice, bob] = await Promise.all([openConsole(), openConsole()]);
      await alice.connectAndWait('room', { param: 'lobby' });
      await bob.connectAndWait('room', { param: 'lobby' });

      await alice.send('hello from alice');
      await bob.waitForReceived('hello from alice');
      await bob.send('hello from bob');
      await alice.waitForReceived('hello from bob');

      // Alice's own message, had the server sent it back, would have reached her before Bob's.
      expect(await alice.received()).toEqual(['hello from bob']);
      expect(await bob.received()).toEqual(['hello from alice']);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows close code 1008 and the reason when /ws/secure refuses a bad token',
    async () => {
      const page = await openConsole();
      await page.connect('secure', { token: 'garbage' });
      expect(await page.closeInfo()).toEqual({ code: '1008', reason: 'Token invalid' });
      expect(await page.page.getByTestId('status').innerText()).toBe(
        'Closed with 1008: Token invalid',
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'delivers a publish from one /ws/json page to another page subscribed to the channel',
    async () => {
      const [reader, writer] = await Promise.all([openConsole(), openConsole()]);
      await reader.connectAndWait('json');
      await reader.sendTemplate('subscribe', 'news');
      await reader.waitForReceived('{"type":"subscribed","data":{"channel":"news"},"id":1}');

      await writer.connectAndWait('json');
      await writer.sendTemplate('publish', 'news');
      await reader.waitForReceived(
        '{"type":"message","data":{"channel":"news","message":"hello"}}',
      );
      await writer.waitForReceived('{"type":"published","data":{"channel":"news"},"id":1}');
      // The writer is not subscribed: it gets its reply and nothing else.
      expect(await writer.received()).toEqual([
        '{"type":"published","data":{"channel":"news"},"id":1}',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'sends no frame for an empty or blank message, by Enter or by the Send button',
    async () => {
      const page = await openConsole();
      await page.connectAndWait('json');
      const message = page.page.getByLabel('Message');
      const sendButton = page.page.getByRole('button', { name: 'Send', exact: true });

      await message.fill('');
      await message.press('Enter');
      expect(await sendButton.isDisabled()).toBe(true);
      await message.fill('  ');
      await message.press('Shift+Enter');
      await message.press('Enter');
      expect(await sendButton.isDisabled()).toBe(true);
      await sendButton.click({ force: true });

      // Replies come in request order: a frame sent above would be answered before this ping.
      await message.fill('');
      await page.sendTemplate('ping');
      await page.waitForReceived('{"type":"pong","data":{},"id":1}');
      expect(await page.texts('out')).toEqual(['{"type":"ping","id":1}']);
      expect(await page.received()).toEqual(['{"type":"pong","data":{},"id":1}']);
      expect(await message.inputValue()).toBe('');
      expect(await sendButton.isDisabled()).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'fills the token with a dev token and greets its subject on /ws/secure',
    async () => {
      const page = await openConsole();
      const token = await page.fetchDevToken('alice');
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      // The preview shows where the page connects, with the token left out.
      await page.page.getByLabel('Endpoint').selectOption('secure');
      expect(await page.page.getByTestId('url-preview').innerText()).toBe(
        `${app.wsUrl}/ws/secure?token=…`,
      );

      await page.connectAndWait('secure');
      await page.send('hi');
      await page.waitForReceived('Hello alice: hi');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'is refused (1006) when served from an origin ALLOWED_ORIGINS does not list',
    async () => {
      // Same server, another origin: localhost is not 127.0.0.1 to the Origin check.
      const page = await openConsole(`${app.origin.replace('127.0.0.1', 'localhost')}/`);
      await page.connect('echo');
      expect(await page.closeInfo()).toEqual({ code: '1006', reason: '(none)' });
      // Chromium logs the HTTP status it got instead of a 101.
      expect(page.problems).toEqual([expect.stringMatching(/WebSocket.*\b403\b/)]);
      page.problems.length = 0;
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'records a short session and writes the screenshot docs/console.png',
    async () => {
      const [page, newsroom] = await Promise.all([openConsole(), openConsole()]);
      await newsroom.connectAndWait('subscribe', { param: 'news' });
      // A fixed clock, moved by hand, so the timestamps in the screenshot do not change.
      const start = Date.parse('2026-01-15T09:30:00.000Z');
      const at = (ms: number) => page.page.clock.setFixedTime(start + ms);

      await at(0);
      await page.connectAndWait('json');
      await at(1_250);
      await page.sendTemplate('ping');
      await page.waitForReceived('{"type":"pong","data":{},"id":1}');
      await at(3_480);
      await page.sendTemplate('subscribe', 'news');
      await page.waitForReceived('{"type":"subscribed","data":{"channel":"news"},"id":2}');
      await at(6_020);
      await newsroom.send('breaking: the console is live');
      const breaking =
        '{"type":"message","data":{"channel":"news","message":"breaking: the console is live"}}';
      await page.waitForReceived(breaking);
      await at(8_710);
      await page.sendTemplate('publish', 'news');
      await page.waitForReceived('{"type":"published","data":{"channel":"news"},"id":3}');
      await at(11_090);
      await page.send('{"type":"dance","id":4}');
      await page.waitForReceived('{"type":"error","data":{"message":"Unknown type"},"id":4}');
      await newsroom.waitForReceived('hello');

      expect(await page.received()).toEqual([
        '{"type":"pong","data":{},"id":1}',
        '{"type":"subscribed","data":{"channel":"news"},"id":2}',
        breaking,
        '{"type":"message","data":{"channel":"news","message":"hello"}}',
        '{"type":"published","data":{"channel":"news"},"id":3}',
        '{"type":"error","data":{"message":"Unknown type"},"id":4}',
      ]);
      // The port is new on every run: show the README's localhost:3000 instead, so the image
      // changes only when the page does.
      await page.page.evaluate(SHOW_README_HOST);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.page.screenshot({ path: SCREENSHOT, animations: 'disabled', caret: 'hide' });
    },
    TEST_TIMEOUT_MS,
  );
});
