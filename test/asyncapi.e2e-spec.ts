import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSeverity, Parser, type Diagnostic } from '@asyncapi/parser';
import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { TokenSigner } from '../src/auth/token-signer';
import { JsonGateway } from '../src/features/json/json.gateway';
import { CloseCode, CloseReason } from '../src/protocol/close-codes';
import { Endpoints, type EndpointDefinition } from '../src/protocol/endpoints';
import { ID_PATTERN } from '../src/protocol/ids';
import { JsonErrorMessage, JsonMessageType } from '../src/protocol/json-messages';
import { ErrorMessages } from '../src/protocol/text-messages';
import { schemaErrors, type Schema } from './asyncapi-schema';
import { useApp } from './support/app';
import type { TestClient } from './support/ws-client';

/**
 * docs/asyncapi.yaml is valid AsyncAPI 3.0 and describes this code: the same endpoints, JSON
 * message types, error strings, close codes and reasons, in both directions. Its examples match
 * its schemas, and the real server answers its request examples with frames its schemas accept.
 */

const DOCUMENT_PATH = join(__dirname, '..', 'docs', 'asyncapi.yaml');

// The parts of the parsed document the checks read, `$ref`s resolved by the parser.
interface DocMessage {
  readonly name: string;
  readonly contentType?: string;
  readonly payload: Schema;
  readonly examples?: readonly { readonly payload: unknown }[];
}
interface DocChannel {
  readonly address: string;
  readonly parameters?: Readonly<Record<string, { readonly 'x-pattern'?: string }>>;
  readonly messages: Readonly<Record<string, DocMessage>>;
  readonly 'x-switchboard-endpoint': string;
  readonly 'x-token': string;
}
interface DocSecurityScheme {
  readonly type: string;
  readonly scheme?: string;
  readonly bearerFormat?: string;
  readonly name?: string;
  readonly in?: string;
  readonly description?: string;
}
interface DocOperation {
  readonly action: 'send' | 'receive';
  readonly channel: DocChannel;
  readonly messages: readonly DocMessage[];
  readonly reply?: { readonly messages: readonly DocMessage[] };
  readonly security?: readonly DocSecurityScheme[];
}
interface DocCloseCode {
  readonly code: number;
  readonly constant: string | null;
  readonly sentBy: string;
  readonly reasons: readonly string[];
}
interface Doc {
  readonly asyncapi: string;
  readonly channels: Readonly<Record<string, DocChannel>>;
  readonly operations: Readonly<Record<string, DocOperation>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, Schema>>;
    readonly messages: Readonly<Record<string, DocMessage>>;
    readonly securitySchemes: Readonly<Record<string, DocSecurityScheme>>;
  };
  readonly 'x-close-codes': readonly DocCloseCode[];
}

const endpoints: readonly EndpointDefinition[] = Object.values(Endpoints);

/** `/ws/room/:roomId` → `/ws/room/{room_id}`: the contract's name for each parameter. */
function addressOf(endpoint: EndpointDefinition): string {
  return endpoint.path.replace(/:(\w+)/g, (_match, param: string) => `{${endpoint.params[param]}}`);
}

/** The `type` a /ws/json message schema pins with `const`. */
function wireType(message: DocMessage): string {
  const properties = message.payload.properties as Record<string, Schema> | undefined;
  const type = properties?.type?.const;
  if (typeof type !== 'string') throw new Error(`Message ${message.name} pins no type`);
  return type;
}

/** The `@SubscribeMessage` names of a gateway class. */
function handledMessages(gateway: { prototype: object }): string[] {
  const prototype = gateway.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .map((key) => prototype[key])
    .filter(
      (handler): handler is object =>
        typeof handler === 'function' &&
        Reflect.getMetadata(MESSAGE_MAPPING_METADATA, handler) === true,
    )
    .map((handler) => Reflect.getMetadata(MESSAGE_METADATA, handler) as string);
}

const sorted = <T>(values: Iterable<T>): T[] => [...new Set(values)].sort();

describe('docs/asyncapi.yaml', () => {
  const text = readFileSync(DOCUMENT_PATH, 'utf8');
  /** Every URI the parser tried to read: none, since the document references only itself. */
  const reads: string[] = [];
  let diagnostics: Diagnostic[];
  let doc: Doc;

  const channelOf = (endpoint: EndpointDefinition): DocChannel => {
    const channel = Object.values(doc.channels).find((c) => c.address === addressOf(endpoint));
    if (!channel) throw new Error(`No channel at ${addressOf(endpoint)}`);
    return channel;
  };
  const operationsOn = (channel: DocChannel): DocOperation[] =>
    Object.values(doc.operations).filter((op) => op.channel.address === channel.address);
  /** What a client sends on `channel`, and what the server sends there (replies included). */
  const clientMessages = (channel: DocChannel): DocMessage[] =>
    operationsOn(channel)
      .filter((op) => op.action === 'receive')
      .flatMap((op) => op.messages);
  const serverMessages = (channel: DocChannel): DocMessage[] =>
    operationsOn(channel).flatMap((op) =>
      op.action === 'send' ? op.messages : (op.reply?.messages ?? []),
    );

  beforeAll(async () => {
    // Recording resolvers, tried before the parser's own: a remote or file $ref would show here
    // (and read as an empty document) instead of being fetched.
    const recorder = (schema: string) => ({
      schema,
      order: 0,
      read: (uri: { toString(): string }) => {
        reads.push(uri.toString());
        return '{}';
      },
    });
    const parser = new Parser({
      __unstable: { resolver: { resolvers: ['http', 'https', 'file'].map(recorder) } },
    });
    const parsed = await parser.parse(text, { source: DOCUMENT_PATH });
    diagnostics = parsed.diagnostics;
    if (!parsed.document) {
      throw new Error(
        `The document does not parse:\n${diagnostics.map(formatDiagnostic).join('\n')}`,
      );
    }
    doc = parsed.document.json<Doc>();
  }, 20_000);

  describe('as AsyncAPI', () => {
    it('is valid AsyncAPI 3.0, with no error or warning from the parser', () => {
      // Hints and information (such as "3.1.0 is out") are not problems.
      const problems = diagnostics.filter(
        (d) => Number(d.severity) <= Number(DiagnosticSeverity.Warning),
      );
      expect(problems.map(formatDiagnostic)).toEqual([]);
      expect(doc.asyncapi).toBe('3.0.0');
    });

    it('references nothing outside itself, so parsing needs no network', () => {
      const refs = [...text.matchAll(/\$ref:\s*['"]?([^'"\s]+)/g)].map((match) => match[1]);
      expect(refs.length).toBeGreaterThan(0);
      expect(refs.filter((ref) => !ref.startsWith('#/'))).toEqual([]);
      expect(reads).toEqual([]);
    });

    it('has examples that match their payload schemas', () => {
      const messages = Object.values(doc.components.messages);
      for (const message of messages) {
        expect({ message: message.name, hasExamples: (message.examples?.length ?? 0) > 0 }).toEqual(
          {
            message: message.name,
            hasExamples: true,
          },
        );
        for (const { payload } of message.examples ?? []) {
          expect({ message: message.name, errors: schemaErrors(message.payload, payload) }).toEqual(
            { message: message.name, errors: [] },
          );
        }
      }
    });

    it('has a schema checker that does reject a bad payload', () => {
      const error = doc.components.messages.ErrorReply;
      expect(schemaErrors(error.payload, { type: 'error', data: { message: 'Nope' } })).toEqual([
        expect.stringContaining('$.data.message: "Nope" is not one of'),
      ]);
      expect(schemaErrors(error.payload, { type: 'error', data: {}, id: true })).toHaveLength(2);
      expect(schemaErrors(doc.components.messages.EchoReply.payload, 'Echo hi')).toHaveLength(1);
    });
  });

  describe('against the code', () => {
    it('has one channel per endpoint of src/protocol/endpoints.ts, at its address', () => {
      const channels = Object.values(doc.channels);
      expect(sorted(channels.map((c) => c.address))).toEqual(sorted(endpoints.map(addressOf)));
      for (const endpoint of endpoints) {
        expect(channelOf(endpoint)['x-switchboard-endpoint']).toBe(endpoint.name);
      }
    });

    it('declares every path parameter, with the id rule as its pattern', () => {
      for (const endpoint of endpoints) {
        const parameters = channelOf(endpoint).parameters ?? {};
        expect(sorted(Object.keys(parameters))).toEqual(sorted(Object.values(endpoint.params)));
        for (const parameter of Object.values(parameters)) {
          expect(parameter['x-pattern']).toBe(ID_PATTERN.source);
        }
      }
      expect(doc.components.schemas.Id.pattern).toBe(ID_PATTERN.source);
    });

    it('requires a token exactly where the code does, by bearer header or query', () => {
      for (const endpoint of endpoints) {
        const channel = channelOf(endpoint);
        expect({ endpoint: endpoint.name, token: channel['x-token'] }).toEqual({
          endpoint: endpoint.name,
          token: endpoint.requiresToken ? 'required' : 'optional',
        });
        for (const operation of operationsOn(channel).filter((op) => op.action === 'receive')) {
          const schemes = (operation.security ?? []).map((s) => `${s.type}:${s.scheme ?? s.in}`);
          expect({ endpoint: endpoint.name, schemes: sorted(schemes) }).toEqual({
            endpoint: endpoint.name,
            schemes: endpoint.requiresToken ? ['http:bearer', 'httpApiKey:query'] : [],
          });
        }
      }
      const { bearer, queryToken } = doc.components.securitySchemes;
      expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      expect(queryToken).toMatchObject({ type: 'httpApiKey', in: 'query', name: 'token' });
      expect(bearer.description).toContain('AUTH_REQUIRED');
    });

    it('carries messages in both directions on every channel', () => {
      for (const endpoint of endpoints) {
        const channel = channelOf(endpoint);
        expect(clientMessages(channel).length).toBeGreaterThan(0);
        expect(serverMessages(channel).length).toBeGreaterThan(0);
        if (endpoint.format === 'text') {
          for (const message of clientMessages(channel)) {
            expect(message).toMatchObject({
              contentType: 'text/plain',
              payload: { type: 'string' },
            });
          }
        }
      }
    });

    it('names exactly the /ws/json request types JsonGateway handles', () => {
      const requests = clientMessages(channelOf(Endpoints.json)).map(wireType);
      expect(sorted(requests)).toEqual(sorted(handledMessages(JsonGateway)));
    });

    it('names every JsonMessageType the code defines, and no other', () => {
      const json = channelOf(Endpoints.json);
      const types = [...clientMessages(json), ...serverMessages(json)].map(wireType);
      expect(sorted(types)).toEqual(sorted(Object.values(JsonMessageType)));
      expect(sorted(Object.values(json.messages).map(wireType))).toEqual(sorted(types));
    });

    it('lists every error message, on /ws/json and on the text endpoints', () => {
      const enumOf = (schema: Schema, ...path: string[]): unknown => {
        let node: Schema = schema;
        for (const key of path) node = (node.properties as Record<string, Schema>)[key];
        return sorted(node.enum as string[]);
      };
      const { ErrorReply, TextError } = doc.components.messages;
      expect(enumOf(ErrorReply.payload, 'data', 'message')).toEqual(
        sorted([...Object.values(JsonErrorMessage), ...Object.values(ErrorMessages)]),
      );
      expect(enumOf(TextError.payload, 'error')).toEqual(sorted(Object.values(ErrorMessages)));
    });

    it('describes every close code of src/protocol/close-codes.ts, under its name', () => {
      const documented = doc['x-close-codes'];
      expect(documented.map((c) => c.code)).toEqual(sorted(documented.map((c) => c.code)));
      for (const [name, code] of Object.entries(CloseCode)) {
        expect(documented.find((c) => c.code === code)).toMatchObject({ constant: name });
      }
      // A code without a constant is one Switchboard never sends itself.
      for (const entry of documented.filter((c) => c.constant === null)) {
        expect({ code: entry.code, sentBy: entry.sentBy }).toEqual({
          code: entry.code,
          sentBy: expect.stringMatching(/^(ws|none)$/) as string,
        });
        expect(Object.values(CloseCode)).not.toContain(entry.code);
      }
    });

    it('gives exactly the close reasons the server sends', () => {
      const reasons = doc['x-close-codes'].flatMap((c) => c.reasons);
      const staticReasons = Object.values(CloseReason).flatMap((reason) =>
        typeof reason === 'string' ? [reason] : [],
      );
      const paramReasons = endpoints.flatMap((e) =>
        Object.values(e.params).map((name) => CloseReason.invalidParam(name)),
      );
      expect(sorted(reasons)).toEqual(
        sorted([...staticReasons, ...paramReasons, ErrorMessages.internal]),
      );
    });
  });

  describe('against the running server', () => {
    const fixture = useApp();
    const { clients } = fixture;

    /** The problems of the frame `text` as `message`, read per its content type. */
    function frameErrors(message: DocMessage, text: string): string[] {
      if (message.contentType !== 'application/json') return schemaErrors(message.payload, text);
      try {
        return schemaErrors(message.payload, JSON.parse(text));
      } catch {
        return ['not JSON'];
      }
    }

    /** Fails unless the frame `text` fits one of `messages`. */
    function expectFits(messages: readonly DocMessage[], text: string): void {
      const tried = messages.map((m) => ({ name: m.name, errors: frameErrors(m, text) }));
      if (tried.some(({ errors }) => errors.length === 0)) return;
      const report = tried.map(({ name, errors }) => `  ${name}: ${errors.join('; ')}`);
      throw new Error(`${text} fits none of the documented messages:\n${report.join('\n')}`);
    }

    it('answers each /ws/json request example with a documented reply', async () => {
      const json = channelOf(Endpoints.json);
      const client = await clients.open(Endpoints.json.path);
      const unsolicited = Object.values(doc.operations)
        .filter((op) => op.channel.address === json.address && op.action === 'send')
        .flatMap((op) => op.messages)
        .filter((message) => wireType(message) !== JsonMessageType.error);
      const operations = operationsOn(json).filter((op) => op.action === 'receive');
      expect(operations.length).toBe(handledMessages(JsonGateway).length);

      // Every example of every request (subscribe has one with `since`).
      for (const operation of operations) {
        for (const example of operation.messages[0].examples ?? []) {
          const request = example.payload as { id?: string | number };
          client.send(JSON.stringify(request));
          if (!operation.reply) continue; // a pong: the next request's reply comes first
          // Frames that are not replies (a publish reaching this subscriber) may come first.
          let frame = await client.nextText();
          while ((JSON.parse(frame) as { id?: unknown }).id !== request.id) {
            expectFits(unsolicited, frame);
            frame = await client.nextText();
          }
          expectFits(operation.reply.messages, frame);
        }
      }
    });

    it('answers each text endpoint’s example the way the document says', async () => {
      const token = fixture.running.app.get(TokenSigner).sign({ sub: 'alice', name: 'Alice' }, 60);
      for (const endpoint of endpoints.filter((e) => e.format === 'text')) {
        const channel = channelOf(endpoint);
        let path = endpoint.path;
        for (const [param, name] of Object.entries(endpoint.params)) {
          const examples = (channel.parameters?.[name] as { examples?: string[] }).examples ?? [];
          path = path.replace(`:${param}`, examples[0]);
        }
        if (endpoint.requiresToken) path += `?token=${token}`;
        const [sender, other] = await clients.openAll(path, path);
        const [operation] = operationsOn(channel).filter((op) => op.action === 'receive');
        const [example] = operation.messages[0].examples ?? [];
        sender.send(example.payload as string);
        // A reply goes back to the sender; a broadcast reaches the other member at least.
        const receiver: TestClient = operation.reply ? sender : other;
        expectFits(serverMessages(channel), await receiver.nextText());
        await clients.closeAll();
      }
    });
  });
});

function formatDiagnostic(d: Diagnostic): string {
  return `${d.code} at ${d.path.join('.')}: ${d.message}`;
}
