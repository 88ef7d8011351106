import { TokenSigner } from '../src/auth/token-signer';
import type { Type } from '@nestjs/common';
import { buildGatewayHandlers } from '../src/transport/dispatch/gateway-handlers';
import { startApp, type RunningApp } from './support/app';
import {
  ContractEndpoints,
  ContractModule,
  ContractModuleWithGlobals,
  ContractRecorder,
} from './support/contract-gateways';
import { envelope } from './support/json-client';
import { TestClient, TestClients } from './support/ws-client';

/**
 * The enhancer contract: Nest's guards, pipes, interceptors and exception filters on gateway
 * handlers behave as stock Nest defines them, on the direct path and the wrapped one alike, and
 * the bytes on the wire are the endpoint's. The gateways are test-only (contract-gateways.ts).
 */
/**
 * The application with `module`'s test gateways, for the enclosing describe block; every client
 * the test opened is closed after it (the contract suite needs `imports`, which useApp lacks).
 */
interface ContractApp {
  readonly running: RunningApp;
  readonly clients: TestClients;
}

function useContractApp(module: Type): ContractApp {
  let running: RunningApp | undefined;
  const fixture: ContractApp = {
    get running(): RunningApp {
      if (!running) throw new Error('the contract app is not started yet');
      return running;
    },
    clients: new TestClients((): string => fixture.running.wsUrl),
  };
  beforeAll(async () => {
    running = await startApp({}, { logger: false, imports: [module] });
  });
  afterEach(() => fixture.clients.closeAll());
  afterAll(() => running?.close());
  return fixture;
}

describe('Nest enhancers on gateways (the contract suite)', () => {
  const app = useContractApp(ContractModule);
  const { clients } = app;

  const recorder = () => app.running.app.select(ContractModule).get(ContractRecorder);

  /** Opens /contract/json, sends each request as an envelope and reads `count` frames. */
  async function askJson(requests: Parameters<typeof envelope>[], count: number) {
    const client = await clients.open(ContractEndpoints.json.path);
    for (const request of requests) client.send(envelope(...request));
    return client.nextTexts(count);
  }

  /** Sends each message and reads `count` frames. */
  async function exchange(client: TestClient, messages: string[], count: number) {
    for (const message of messages) client.send(message);
    return client.nextTexts(count);
  }

  describe('which path a handler takes, decided at boot', () => {
    it('keeps handlers without enhancers direct, class guards notwithstanding', () => {
      const paths = Object.fromEntries(
        [...buildGatewayHandlers(app.running.app)]
          .filter(([endpoint]) => endpoint.path.startsWith('/contract/'))
          .map(([endpoint, { direct, connectionGuard }]) => [
            endpoint.path,
            { direct: [...direct].sort(), connectionGuard: connectionGuard !== undefined },
          ]),
      );
      expect(paths).toEqual({
        '/contract/plain': { direct: ['text'], connectionGuard: true },
        '/contract/intercepted': { direct: [], connectionGuard: true },
        '/contract/guarded': { direct: [], connectionGuard: false },
        '/contract/piped': { direct: [], connectionGuard: false },
        '/contract/interceptors': { direct: [], connectionGuard: false },
        '/contract/filtered': { direct: [], connectionGuard: false },
        '/contract/json': { direct: ['plain'], connectionGuard: true },
      });
    });
  });

  describe.each([
    ['direct', ContractEndpoints.plain.path],
    ['wrapped (an interceptor)', ContractEndpoints.intercepted.path],
  ])('handler results on a text endpoint, %s path', (_path, path) => {
    it('sends a value, a promise’s value and an object as JSON', async () => {
      const client = await clients.open(path);
      expect(await exchange(client, ['value:x', 'promise:y', 'object:z'], 3)).toEqual([
        'x',
        'y',
        '{"ok":true,"echo":"z"}',
      ]);
    });

    it('sends every value of an observable, in order, before the next message is handled', async () => {
      const client = await clients.open(path);
      expect(await exchange(client, ['observable:a,b,c', 'value:after'], 4)).toEqual([
        'a',
        'b',
        'c',
        'after',
      ]);
    });

    it('answers errors in the endpoint’s shape and keeps the connection', async () => {
      const client = await clients.open(path);
      const messages = ['ws-error:nope', 'crash', 'observable-error:first', 'value:still open'];
      expect(await exchange(client, messages, 5)).toEqual([
        '{"error":"nope"}',
        '{"error":"Internal server error"}',
        'first',
        '{"error":"broken"}',
        'still open',
      ]);
    });
  });

  describe.each([
    ['direct', 'plain'],
    ['wrapped (an interceptor)', 'intercepted'],
  ])('handler results on a JSON endpoint, %s path', (_path, type) => {
    const send = (client: TestClient, kind: string, value: string, id: number | string) =>
      client.send(envelope(type, { kind, value }, id));

    it('sends a value, a promise’s value and every value of an observable with the request id', async () => {
      const client = await clients.open(ContractEndpoints.json.path);
      send(client, 'value', 'x', 1);
      send(client, 'promise', 'y', 2);
      send(client, 'observable', 'a,b', 'o');
      send(client, 'value', 'after', 3);
      expect(await client.nextTexts(5)).toEqual([
        '{"type":"answer","data":"x","id":1}',
        '{"type":"answer","data":"y","id":2}',
        '{"type":"answer","data":"a","id":"o"}',
        '{"type":"answer","data":"b","id":"o"}',
        '{"type":"answer","data":"after","id":3}',
      ]);
    });

    it('answers errors as error envelopes with the request id', async () => {
      const client = await clients.open(ContractEndpoints.json.path);
      send(client, 'ws-error', 'nope', 1);
      send(client, 'crash', '', 2);
      send(client, 'observable-error', 'first', 3);
      expect(await client.nextTexts(4)).toEqual([
        '{"type":"error","data":{"message":"nope"},"id":1}',
        '{"type":"error","data":{"message":"Internal server error"},"id":2}',
        '{"type":"answer","data":"first","id":3}',
        '{"type":"error","data":{"message":"broken"},"id":3}',
      ]);
    });
  });

  describe('guards on the gateway class: once per connection', () => {
    it('run once, with the Connection and the upgrade request in the ExecutionContext', async () => {
      const client = await clients.open(`${ContractEndpoints.plain.path}?who=me`);
      expect(await exchange(client, ['value:1', 'value:2', 'value:3'], 3)).toEqual(['1', '2', '3']);
      const checks = recorder().connectionChecks.filter(({ url }) => url?.endsWith('?who=me'));
      expect(checks).toEqual([
        {
          type: 'ws',
          gateway: 'PlainTextGateway',
          client: ContractEndpoints.plain.path,
          url: '/contract/plain?who=me',
        },
      ]);
    });

    it.each([
      ['a WsException', '?refuse=Go%20away', 1008, 'Go away'],
      ['an UnauthorizedException', '?unauthorized=Who%20are%20you', 1008, 'Who are you'],
      ['false', '?deny', 1008, 'Forbidden'],
      ['false, through a promise', '?later&deny', 1008, 'Forbidden'],
      ['a reason over 123 bytes', `?refuse=${'%C3%A9'.repeat(100)}`, 1008, 'é'.repeat(61)],
      ['a plain Error (a bug)', '?crash', 1011, 'Internal server error'],
    ])(
      'refuse on %s with a close before any frame is handled',
      async (_case, query, code, reason) => {
        for (const path of [ContractEndpoints.plain.path, ContractEndpoints.json.path]) {
          const client = await TestClient.open(`${app.running.wsUrl}${path}${query}`);
          client.send('value:must never be handled');
          expect(await client.closed()).toEqual({ code, reason });
          expect(client.unread).toHaveLength(0);
        }
      },
    );

    it('handle, not lose, frames sent while an asynchronous guard decides', async () => {
      const client = await clients.open(`${ContractEndpoints.plain.path}?later`);
      client.send('value:early');
      expect(await client.nextText()).toBe('early');
    });
  });

  describe('guards on a handler: per message', () => {
    it('run for every message; a refusal is an error reply and the connection stays', async () => {
      const client = await clients.open(ContractEndpoints.guarded.path);
      const before = recorder().messageChecks;
      expect(await exchange(client, ['hello', 'deny', 'reject', 'again'], 4)).toEqual([
        'allowed:hello',
        '{"error":"Forbidden resource"}',
        '{"error":"Rejected by the guard"}',
        'allowed:again',
      ]);
      expect(recorder().messageChecks - before).toBe(4);
    });

    it('let JwtAuthGuard on a handler through only connections that authenticated', async () => {
      const token = app.running.app.get(TokenSigner).sign({ sub: 'alice' }, 60);
      const anonymous = await clients.open(ContractEndpoints.json.path);
      const alice = await clients.open(`${ContractEndpoints.json.path}?token=${token}`);
      anonymous.send(envelope('whoami', undefined, 1));
      alice.send(envelope('whoami', undefined, 2));
      expect(await anonymous.nextText()).toBe(
        '{"type":"error","data":{"message":"Token missing"},"id":1}',
      );
      expect(await alice.nextText()).toBe('{"type":"me","data":"alice","id":2}');
    });

    it('answer a refusal on JSON as an error envelope with the request id', async () => {
      expect(
        await askJson(
          [
            ['guarded', { kind: 'value', value: 'deny' }, 'g1'],
            ['guarded', { kind: 'value', value: 'ok' }, 'g2'],
          ],
          2,
        ),
      ).toEqual([
        '{"type":"error","data":{"message":"Forbidden resource"},"id":"g1"}',
        '{"type":"answer","data":"ok","id":"g2"}',
      ]);
    });
  });

  describe('pipes', () => {
    it('run class, method, then parameter pipes; a pipe’s exception is an error reply', async () => {
      const client = await clients.open(ContractEndpoints.piped.path);
      expect(await exchange(client, ['ab', 'reject', 'cd'], 3)).toEqual([
        '[AB!]',
        '{"error":"Rejected by the pipe"}',
        '[CD!]',
      ]);
    });

    it('validate a JSON payload with a DTO', async () => {
      expect(
        await askJson(
          [
            ['dto', { name: 'Ann' }, 1],
            ['dto', { name: 5 }, 2],
          ],
          2,
        ),
      ).toEqual([
        '{"type":"hello","data":{"name":"Ann"},"id":1}',
        '{"type":"error","data":{"message":"Validation failed","errors":[{"field":"payload.name","message":"name must be a string"}]},"id":2}',
      ]);
    });
  });

  describe('interceptors', () => {
    it('run before and after the handler, class ones outside method ones', async () => {
      const client = await clients.open(ContractEndpoints.interceptors.path);
      recorder().steps.length = 0;
      expect(await exchange(client, ['order'], 1)).toEqual(['order']);
      expect(recorder().steps).toEqual([
        'class:before',
        'method:before',
        'handler',
        'method:after',
        'class:after',
      ]);
    });

    it('map the result, catch and map errors, and short-circuit the handler', async () => {
      const client = await clients.open(ContractEndpoints.interceptors.path);
      recorder().steps.length = 0;
      expect(await exchange(client, ['map:x', 'catch:boom', 'short'], 3)).toEqual([
        'mapped(x)',
        '{"error":"caught(boom)"}',
        'short-circuited',
      ]);
      expect(recorder().steps.filter((step) => step === 'handler')).toHaveLength(2);
    });

    it('do the same on JSON, the request id on every reply', async () => {
      const client = await clients.open(ContractEndpoints.json.path);
      client.send(envelope('mapped', 'map:x', 1));
      client.send(envelope('mapped', 'catch:boom', 2));
      client.send(envelope('mapped', 'short', 3));
      const data = {
        endpoint: ContractEndpoints.json.path,
        envelope: { type: 'mapped', payload: 'map:x', id: 1 },
      };
      expect(await client.nextTexts(3)).toEqual([
        JSON.stringify({ type: 'answer', data, mapped: true, id: 1 }),
        '{"type":"error","data":{"message":"caught(boom)"},"id":2}',
        '{"type":"short-circuited","id":3}',
      ]);
    });
  });

  describe('exception filters', () => {
    it('let the matching custom filter answer; WsErrorFilter answers what none catches', async () => {
      const client = await clients.open(ContractEndpoints.filtered.path);
      const messages = ['ws-error:m', 'type-error', 'crash', 'value:x'];
      expect(await exchange(client, messages, 4)).toEqual([
        'class filter: m',
        'method filter: not a function',
        '{"error":"Internal server error"}',
        'x',
      ]);
    });

    it('let a custom filter answer on JSON', async () => {
      expect(
        await askJson(
          [
            ['filtered', undefined, 1],
            ['plain', { kind: 'value', value: 'next' }, 2],
          ],
          2,
        ),
      ).toEqual(['class filter: handled by a filter', '{"type":"answer","data":"next","id":2}']);
    });
  });
});

describe('global enhancers and gateways', () => {
  const { clients } = useContractApp(ContractModuleWithGlobals);

  it('are not applied to gateways on either path, as in stock Nest', async () => {
    const plain = await clients.open(ContractEndpoints.plain.path);
    const intercepted = await clients.open(ContractEndpoints.intercepted.path);
    const piped = await clients.open(ContractEndpoints.piped.path);
    plain.send('value:x');
    intercepted.send('value:x');
    piped.send('ab');
    expect([await plain.nextText(), await intercepted.nextText(), await piped.nextText()]).toEqual([
      'x',
      'x',
      '[AB!]',
    ]);
  });
});
