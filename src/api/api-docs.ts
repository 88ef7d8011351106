import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ID_RULE_DESCRIPTION } from '../protocol/ids';

/** OpenAPI schemas of the /api bodies and replies (the DTOs validate; these describe). */
const channel: SchemaObject = { type: 'string', description: `A channel: ${ID_RULE_DESCRIPTION}` };
const anyJson: SchemaObject = { description: 'Any JSON value, null included' };
const member: SchemaObject = {
  type: 'object',
  required: ['client', 'user'],
  properties: { client: { type: 'string' }, user: { type: 'string', nullable: true } },
};
const position: SchemaObject = {
  type: 'object',
  required: ['channel'],
  properties: {
    channel,
    epoch: { type: 'string', description: 'With history on (HISTORY_SIZE > 0)' },
    offset: { type: 'integer', description: 'With history on (HISTORY_SIZE > 0)' },
  },
};

export const ApiSchemas = {
  publishBody: {
    type: 'object',
    required: ['channel', 'message'],
    properties: { channel, message: anyJson },
  },
  broadcastBody: {
    type: 'object',
    required: ['channels', 'message'],
    properties: {
      channels: { type: 'array', items: channel, minItems: 1, maxItems: 100 },
      message: anyJson,
    },
  },
  disconnectBody: {
    type: 'object',
    required: ['user'],
    properties: { user: { type: 'string', description: "A token's sub" } },
  },
  position,
  broadcastReply: {
    type: 'object',
    required: ['results'],
    properties: {
      results: {
        type: 'array',
        items: {
          oneOf: [
            position,
            {
              type: 'object',
              required: ['channel', 'error'],
              properties: { channel, error: { type: 'string' } },
            },
          ],
        },
      },
    },
  },
  history: {
    type: 'object',
    required: ['channel', 'epoch', 'offset', 'publications'],
    properties: {
      channel,
      epoch: { type: 'string' },
      offset: { type: 'integer' },
      publications: {
        type: 'array',
        items: {
          type: 'object',
          required: ['offset', 'message'],
          properties: { offset: { type: 'integer' }, message: anyJson },
        },
      },
    },
  },
  presence: {
    type: 'object',
    required: ['channel', 'clients', 'users', 'members'],
    properties: {
      channel,
      clients: { type: 'integer' },
      users: { type: 'integer' },
      members: { type: 'array', items: member, maxItems: 1000 },
      truncated: { type: 'boolean', enum: [true] },
    },
  },
  disconnected: {
    type: 'object',
    required: ['disconnected'],
    properties: { disconnected: { type: 'integer' } },
  },
} satisfies Record<string, SchemaObject>;

const error: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

/** Security and the error replies every /api route can give. */
export function ApiCommonDocs(): ClassDecorator {
  const errors: [number, string][] = [
    [400, 'Validation failed (bad JSON, fields, channel name or Idempotency-Key)'],
    [401, 'Unauthorized: no key or an unknown one'],
    [403, 'Forbidden: the key lacks the scope'],
    [413, 'Payload too large: body over MAX_MESSAGE_BYTES'],
    [429, 'Too Many Requests: over API_RATE_LIMIT per minute for this key (Retry-After)'],
    [503, 'Bus unavailable'],
  ];
  return applyDecorators(
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    ...errors.map(([status, description]) => ApiResponse({ status, description, schema: error })),
  );
}
