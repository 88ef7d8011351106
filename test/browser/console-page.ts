import type { BrowserContext, Locator, Page } from 'playwright-core';

/** How long any single wait on the page may take before it fails the test. */
export const PAGE_WAIT_MS = 5000;

export type EndpointName = 'echo' | 'chat' | 'room' | 'subscribe' | 'secure' | 'json';
export type Direction = 'in' | 'out' | 'event' | 'error';
export type SocketState =
  'idle' | 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed' | 'error';

export interface ConnectOptions {
  /** The client id, room id or channel of the endpoints that take one. */
  readonly param?: string;
  readonly token?: string;
}

/**
 * The browser console (src/console/public) as a test drives it, through its ids and
 * data-testids only. Every wait is bounded by PAGE_WAIT_MS. Errors the page reports (uncaught
 * exceptions, console errors such as a CSP violation) are collected in `problems`.
 */
export class ConsolePage {
  readonly problems: string[] = [];

  private constructor(readonly page: Page) {
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push(`console error: ${message.text()}`);
    });
    page.setDefaultTimeout(PAGE_WAIT_MS);
  }

  /** Opens the console at `url` in a new page of `context`. */
  static async open(context: BrowserContext, url: string): Promise<ConsolePage> {
    const opened = new ConsolePage(await context.newPage());
    await opened.page.goto(url, { waitUntil: 'load', timeout: PAGE_WAIT_MS });
    // The script is a module, so it has run once the load event fired; check it did.
    await opened.page
      .getByTestId('url-preview')
      .filter({ hasText: /^ws:\/\// })
      .waitFor();
    return opened;
  }

  /** Fills the connection form and presses Connect; does not wait for the outcome. */
  async connect(endpoint: EndpointName, { param, token }: ConnectOptions = {}): Promise<void> {
    await this.page.getByLabel('Endpoint').selectOption(endpoint);
    if (param !== undefined) await this.page.locator('#param').fill(param);
    if (token !== undefined) await this.page.getByLabel('Token', { exact: true }).fill(token);
    await this.page.getByRole('button', { name: 'Connect', exact: true }).click();
  }

  /** Connects and waits until the socket is open. */
  async connectAndWait(endpoint: EndpointName, options?: ConnectOptions): Promise<void> {
    await this.connect(endpoint, options);
    await this.waitForState('open');
  }

  async waitForState(state: SocketState): Promise<void> {
    await this.page.locator(`[data-testid="status"][data-state="${state}"]`).waitFor();
  }

  /** Types `text` into the message box and presses Send. */
  async send(text: string): Promise<void> {
    await this.page.getByLabel('Message').fill(text);
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    await this.entry('out', text).last().waitFor();
  }

  /** Inserts the /ws/json request template of `type` into the message box and sends it. */
  async sendTemplate(type: string, channel?: string): Promise<void> {
    if (channel !== undefined) await this.page.getByTestId('json-channel').fill(channel);
    await this.page.getByRole('button', { name: type, exact: true }).click();
    const text = await this.page.getByLabel('Message').inputValue();
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    await this.entry('out', text).last().waitFor();
  }

  /** Presses "Get dev token" and waits until the token field is filled. */
  async fetchDevToken(subject: string): Promise<string> {
    await this.page.getByLabel('Token subject').fill(subject);
    await this.page.getByRole('button', { name: 'Get dev token', exact: true }).click();
    await this.entry('event', new RegExp(`^Development token for "${subject}"`)).waitFor();
    return this.page.getByLabel('Token', { exact: true }).inputValue();
  }

  /** Waits for a received frame whose text is exactly `text` (or matches it). */
  async waitForReceived(text: string | RegExp): Promise<void> {
    await this.entry('in', text).first().waitFor();
  }

  /** The texts of the frames received so far, in order. */
  received(): Promise<string[]> {
    return this.texts('in');
  }

  texts(direction: Direction): Promise<string[]> {
    return this.page
      .locator(`[data-testid="log-entry"][data-direction="${direction}"] [data-testid="log-text"]`)
      .allTextContents();
  }

  /** The offsets shown beside the channel messages received so far (`#1`…), in order. */
  offsets(): Promise<string[]> {
    return this.page.getByTestId('log-offset').allTextContents();
  }

  /** The subscribed channels as the State panel lists them (`news: offset 2`). */
  channels(): Promise<string[]> {
    return this.page.getByTestId('channel').allTextContents();
  }

  /** The close code and reason the page shows, once the socket has closed. */
  async closeInfo(): Promise<{ code: string; reason: string }> {
    await this.waitForState('closed');
    await this.page.getByTestId('close-info').waitFor();
    return {
      code: await this.page.getByTestId('close-code').innerText(),
      reason: await this.page.getByTestId('close-reason').innerText(),
    };
  }

  /** Log entries of `direction` whose text is `text` exactly, or matches it. */
  private entry(direction: Direction, text: string | RegExp): Locator {
    const pattern = typeof text === 'string' ? new RegExp(`^${escapeRegExp(text)}$`) : text;
    return this.page
      .locator(`[data-testid="log-entry"][data-direction="${direction}"] [data-testid="log-text"]`)
      .filter({ hasText: pattern });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
