import { useApp } from './support/app';

describe('echo /ws', () => {
  const fixture = useApp();

  it('answers "Echo: " + text, unicode verbatim, in order', async () => {
    await fixture
      .request()
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
