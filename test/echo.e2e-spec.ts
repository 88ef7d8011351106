import request from 'superwstest';
import { startApp, type RunningApp } from './support/app';

describe('echo /ws', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });

  afterAll(async () => {
    await running.close();
  });

  it('answers "Echo: " + text, unicode verbatim, in order', async () => {
    await request(running.server)
      .ws('/ws')
      .sendText('hello')
      .expectText('Echo: hello')
      .sendText('héllo wörld ✓ 🚀')
      .sendText('second')
      .expectText('Echo: héllo wörld ✓ 🚀')
      .expectText('Echo: second')
      .close()
      .expectClosed();
  });
});
