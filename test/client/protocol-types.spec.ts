import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { load } from 'js-yaml';
import type { ProtocolMessages } from '../../client/src/index.js';
import { schemaErrors, type Schema } from '../asyncapi-schema';

const DOCUMENT_PATH = join(__dirname, '..', '..', 'docs', 'asyncapi.yaml');

/**
 * Typed samples of every /ws/json message, one entry per AsyncAPI message name: the compiler
 * holds them to the client's types (a name missing here or a field the types lack fails
 * `npm run typecheck`), and the test below holds them to the document's schemas.
 */
const SAMPLES: { [Name in keyof ProtocolMessages]: ProtocolMessages[Name][] } = {
  PingRequest: [{ type: 'ping', id: 'p1' }, { type: 'ping' }],
  PongAnswer: [{ type: 'pong' }, { type: 'pong', id: 9 }],
  SubscribeRequest: [
    { type: 'subscribe', payload: { channel: 'news' }, id: 1 },
    {
      type: 'subscribe',
      payload: { channel: 'news', since: { offset: 41, epoch: 'Zm9v' } },
      id: 2,
    },
    { type: 'subscribe', payload: { channel: 'news', since: { offset: 0 } } },
    { type: 'subscribe', payload: { channel: 'doc-1', presence: true }, id: 6 },
  ],
  UnsubscribeRequest: [{ type: 'unsubscribe', payload: { channel: 'news' }, id: 3 }],
  PublishRequest: [
    { type: 'publish', payload: { channel: 'news', message: { text: 'hi', n: [1, null] } }, id: 4 },
    { type: 'publish', payload: { channel: 'news', message: null } },
  ],
  RefreshRequest: [{ type: 'refresh', payload: { token: 'a.b.c' }, id: 5 }],
  PresenceRequest: [{ type: 'presence', payload: { channel: 'doc-1' }, id: 7 }],
  PongReply: [{ type: 'pong', data: {}, id: 'p1' }],
  SubscribedReply: [
    { type: 'subscribed', data: { channel: 'news' }, id: 1 },
    { type: 'subscribed', data: { channel: 'news', epoch: 'Zm9v', offset: 0 }, id: 1 },
    {
      type: 'subscribed',
      data: {
        channel: 'news',
        epoch: 'Zm9v',
        offset: 43,
        recovered: true,
        publications: [
          { offset: 42, message: 'a' },
          { offset: 43, message: { b: true } },
        ],
      },
      id: 2,
    },
  ],
  UnsubscribedReply: [
    { type: 'unsubscribed', data: { channel: 'news' }, id: 3 },
    { type: 'unsubscribed', data: { channel: 'news', reason: 'Insufficient state' } },
  ],
  PublishedReply: [
    { type: 'published', data: { channel: 'news' }, id: 4 },
    { type: 'published', data: { channel: 'news', epoch: 'Zm9v', offset: 44 }, id: 4 },
  ],
  RefreshedReply: [
    { type: 'refreshed', data: { exp: 1795744261 }, id: 5 },
    { type: 'refreshed', data: { exp: null }, id: 5 },
  ],
  PresenceReply: [
    {
      type: 'presence',
      data: {
        channel: 'doc-1',
        clients: 2,
        users: 1,
        members: [
          { client: 'k3Jd9aQz.1', user: 'alice' },
          { client: 'k3Jd9aQz.2', user: null },
        ],
      },
      id: 7,
    },
    {
      type: 'presence',
      data: { channel: 'doc-1', clients: 1500, users: 3, members: [], truncated: true },
    },
  ],
  PresenceDiff: [
    {
      type: 'presence_diff',
      data: { channel: 'doc-1', joins: [{ client: 'k3Jd9aQz.3', user: 'bob' }], leaves: [] },
    },
    {
      type: 'presence_diff',
      data: { channel: 'doc-1', joins: [], leaves: [{ client: 'k3Jd9aQz.1', user: null }] },
    },
  ],
  ChannelMessage: [
    { type: 'message', data: { channel: 'news', message: 'hi' } },
    { type: 'message', data: { channel: 'news', message: { n: 1 }, offset: 44 } },
  ],
  HeartbeatPing: [{ type: 'ping', data: {} }],
  ErrorReply: [
    { type: 'error', data: { message: 'Bus unavailable' }, id: 4 },
    {
      type: 'error',
      data: {
        message: 'Validation failed',
        errors: [{ field: 'payload.channel', message: 'channel must be a string' }],
      },
      id: 1,
    },
  ],
};

/** Every property path a schema declares (`data.publications[].offset`…). */
function schemaPaths(schema: Schema, prefix = ''): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const items = schema.items as Schema | undefined;
  return [
    ...Object.entries(properties).flatMap(([key, child]) => [
      `${prefix}${key}`,
      ...schemaPaths(child, `${prefix}${key}.`),
    ]),
    ...(items ? schemaPaths(items, `${prefix.slice(0, -1)}[].`) : []),
  ];
}

/** Every property path a value has. */
function valuePaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value))
    return value.flatMap((item) => valuePaths(item, `${prefix.slice(0, -1)}[].`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    `${prefix}${key}`,
    ...valuePaths(child, `${prefix}${key}.`),
  ]);
}

describe('the client types against docs/asyncapi.yaml', () => {
  let payloads: Record<string, Schema>;
  let jsonMessageNames: string[];

  beforeAll(async () => {
    const text = readFileSync(DOCUMENT_PATH, 'utf8');
    const parsed = await new Parser().parse(text, { source: DOCUMENT_PATH });
    if (!parsed.document) throw new Error('docs/asyncapi.yaml does not parse');
    const doc = parsed.document.json<{
      components: { messages: Record<string, { payload: Schema }> };
    }>();
    payloads = Object.fromEntries(
      Object.entries(doc.components.messages).map(([name, message]) => [name, message.payload]),
    );
    // The names as the document spells them: each /ws/json message is a $ref to a component.
    const raw = load(text) as {
      channels: { json: { messages: Record<string, { $ref: string }> } };
    };
    jsonMessageNames = Object.values(raw.channels.json.messages).map(
      (message) => message.$ref.split('/').pop() ?? '',
    );
  }, 20_000);

  it('has a type for every /ws/json message of the document, and no other', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...jsonMessageNames].sort());
  });

  it.each(Object.entries(SAMPLES))('%s: every typed sample fits the schema', (name, samples) => {
    for (const sample of samples) expect(schemaErrors(payloads[name], sample)).toEqual([]);
  });

  it.each(Object.keys(SAMPLES))('%s: the types carry every field the schema declares', (name) => {
    const covered = new Set(SAMPLES[name as keyof ProtocolMessages].flatMap((s) => valuePaths(s)));
    expect(schemaPaths(payloads[name]).filter((path) => !covered.has(path))).toEqual([]);
  });
});
