import { useApp } from './support/app';
import { errorFrame, nextJsons, reply, sendRequest } from './support/json-client';
import { ThrottledGatewaysModule, ThrottledPaths as P } from './support/throttled-gateways';

const MAX = 5;
const TEXT_LIMITED = JSON.stringify({ error: 'Rate limit exceeded' });
const limited = (id: number) => errorFrame('Rate limit exceeded', id);

const got = (...texts: string[]) => texts.map((text) => `got ${text}`);

/**
 * @Throttle and @SkipThrottle from @nestjs/throttler on gateways and handlers (test gateways in
 * support/throttled-gateways.ts), with the module limit at RATE_LIMIT_MAX=5 per minute.
 */
describe(`@Throttle / @SkipThrottle on gateways (RATE_LIMIT_MAX=${MAX})`, () => {
  const { clients } = useApp(
    { RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: '60000' },
    { imports: [ThrottledGatewaysModule] },
  );

  it('@Throttle on a gateway class sets its limit: 2 of 4 frames handled, each connection on its own', async () => {
    const [first, second] = await clients.openAll(P.classLimit, P.classLimit);
    for (const text of ['a', 'b', 'c', 'd']) first.send(text);
    expect(await first.nextTexts(4)).toEqual([...got('a', 'b'), TEXT_LIMITED, TEXT_LIMITED]);
    second.send('e');
    expect(await second.nextText()).toBe('got e');
  });

  it('@Throttle on a gateway class counts protocol pings too', async () => {
    const client = await clients.open(P.classLimit);
    const pongs: string[] = [];
    client.socket.on('pong', (data: Buffer) => pongs.push(data.toString()));
    client.socket.ping('p1');
    client.socket.ping('p2');
    client.send('after');
    expect(await client.nextText()).toBe(TEXT_LIMITED);
    expect(pongs).toEqual(['p1', 'p2']);
  });

  it('@SkipThrottle on a gateway class lifts the limit, pings included', async () => {
    const client = await clients.open(P.classSkip);
    const pongs: string[] = [];
    client.socket.on('pong', (data: Buffer) => pongs.push(data.toString()));
    const texts = Array.from({ length: 3 * MAX }, (_, i) => `m${i}`);
    for (let i = 0; i < 2 * MAX; i++) client.socket.ping(`p${i}`);
    for (const text of texts) client.send(text);
    expect(await client.nextTexts(texts.length)).toEqual(got(...texts));
    expect(pongs).toHaveLength(2 * MAX);
  });

  it('@Throttle on the handler of a text gateway overrides the class: 3 of 5 handled', async () => {
    const client = await clients.open(P.handlerLimit);
    for (const text of ['a', 'b', 'c', 'd', 'e']) client.send(text);
    expect(await client.nextTexts(5)).toEqual([...got('a', 'b', 'c'), TEXT_LIMITED, TEXT_LIMITED]);
  });

  it('/ws/json: @Throttle on the class limits every frame, invalid JSON and unknown types included', async () => {
    const client = await clients.open(P.json);
    client.send('{not json');
    sendRequest(client, 'nope', undefined, 1);
    sendRequest(client, 'plain', undefined, 2);
    sendRequest(client, 'plain', undefined, 3);
    sendRequest(client, 'plain', undefined, 4);
    client.send('{still not json');
    expect(await nextJsons(client, 6)).toEqual([
      errorFrame('Invalid JSON'),
      errorFrame('Unknown type', 1),
      reply('plain', {}, 2),
      reply('plain', {}, 3),
      limited(4),
      errorFrame('Rate limit exceeded'),
    ]);
  });

  it('/ws/json: a @SkipThrottle handler does not use the budget; the others still have all 4', async () => {
    const client = await clients.open(P.json);
    for (let id = 1; id <= 10; id++) sendRequest(client, 'free', undefined, id);
    for (let id = 11; id <= 15; id++) sendRequest(client, 'plain', undefined, id);
    expect(await nextJsons(client, 15)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => reply('free', {}, i + 1)),
      ...[11, 12, 13, 14].map((id) => reply('plain', {}, id)),
      limited(15),
    ]);
  });

  it('/ws/json: once the class budget is spent, even a @SkipThrottle handler is refused (frames are counted before decoding)', async () => {
    const client = await clients.open(P.json);
    for (let id = 1; id <= 4; id++) sendRequest(client, 'plain', undefined, id);
    sendRequest(client, 'free', undefined, 5);
    expect(await nextJsons(client, 5)).toEqual([
      ...[1, 2, 3, 4].map((id) => reply('plain', {}, id)),
      limited(5),
    ]);
  });

  it('/ws/json: @Throttle on a handler gives it its own budget, on the direct and the wrapped path', async () => {
    const client = await clients.open(P.json);
    sendRequest(client, 'scarce', undefined, 1);
    sendRequest(client, 'scarce', undefined, 2);
    sendRequest(client, 'scarcePiped', 'x', 3);
    sendRequest(client, 'scarcePiped', undefined, 4);
    sendRequest(client, 'scarcePiped', 'y', 5);
    expect(await nextJsons(client, 5)).toEqual([
      reply('scarce', {}, 1),
      limited(2),
      reply('scarcePiped', { payload: 'x' }, 3),
      reply('scarcePiped', { payload: 'none' }, 4),
      limited(5),
    ]);
    // None of the five kept a place in the class budget of 4.
    for (let id = 6; id <= 10; id++) sendRequest(client, 'plain', undefined, id);
    expect(await nextJsons(client, 5)).toEqual([
      ...[6, 7, 8, 9].map((id) => reply('plain', {}, id)),
      limited(10),
    ]);
  });

  it('/ws/json: a frame waiting behind a handler in flight holds a place in the class budget until it is routed', async () => {
    const client = await clients.open(P.json);
    // 1 is routed at once and its handler is asynchronous; 2 to 6 arrive while
    // it is in flight and are counted on arrival: 2 holds a place, so 6 is the fifth of four.
    sendRequest(client, 'scarcePiped', 'x', 1);
    sendRequest(client, 'scarcePiped', 'y', 2);
    for (let id = 3; id <= 6; id++) sendRequest(client, 'plain', undefined, id);
    expect(await nextJsons(client, 6)).toEqual([
      reply('scarcePiped', { payload: 'x' }, 1),
      reply('scarcePiped', { payload: 'y' }, 2),
      ...[3, 4, 5].map((id) => reply('plain', {}, id)),
      limited(6),
    ]);
    // Routed, 2 gave its place back.
    sendRequest(client, 'plain', undefined, 7);
    sendRequest(client, 'plain', undefined, 8);
    expect(await nextJsons(client, 2)).toEqual([reply('plain', {}, 7), limited(8)]);
  });

  it('leaves the contract endpoints at the module limit', async () => {
    const client = await clients.open('/ws');
    for (let i = 1; i <= MAX + 1; i++) client.send(`m${i}`);
    const texts = await client.nextTexts(MAX + 1);
    expect(texts.slice(0, MAX)).toEqual(Array.from({ length: MAX }, (_, i) => `Echo: m${i + 1}`));
    expect(texts[MAX]).toBe(TEXT_LIMITED);
  });
});
