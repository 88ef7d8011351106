/**
 * A JSON Schema checker for exactly the keywords docs/asyncapi.yaml uses, so the tests can hold
 * its examples, and the frames the real server sends, against its payload schemas without
 * another dependency. A keyword it does not know fails loudly: a schema this file cannot check
 * must not pass for one it checked.
 *
 * Schemas are taken as @asyncapi/parser returns them: `$ref`s already resolved, and `x-`
 * extensions (the parser adds `x-parser-schema-id`) ignored.
 */

export type Schema = { readonly [keyword: string]: unknown };

/** Keywords that only describe, and so constrain nothing. */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default']);

/** The problems of `value` against `schema`, each prefixed with its JSON path; [] when valid. */
export function schemaErrors(schema: Schema, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword) || keyword.startsWith('x-')) continue;
    const check = KEYWORDS[keyword];
    if (!check)
      throw new Error(`${path}: the keyword "${keyword}" is not supported by this checker`);
    errors.push(...check(rule, value, path, schema));
  }
  return errors;
}

type Check = (rule: unknown, value: unknown, path: string, schema: Schema) => string[];

const KEYWORDS: Readonly<Record<string, Check>> = {
  type: (rule, value, path) => {
    const types = Array.isArray(rule) ? (rule as string[]) : [rule as string];
    return types.some((type) => hasType(value, type))
      ? []
      : [`${path}: ${show(value)} is not of type ${types.join(' or ')}`];
  },
  const: (rule, value, path) =>
    equal(rule, value) ? [] : [`${path}: ${show(value)} is not ${show(rule)}`],
  enum: (rule, value, path) =>
    (rule as unknown[]).some((option) => equal(option, value))
      ? []
      : [`${path}: ${show(value)} is not one of ${show(rule)}`],
  pattern: (rule, value, path) =>
    typeof value !== 'string' || new RegExp(rule as string, 'u').test(value)
      ? []
      : [`${path}: ${show(value)} does not match /${String(rule)}/`],
  minLength: (rule, value, path) =>
    typeof value !== 'string' || [...value].length >= (rule as number)
      ? []
      : [`${path}: ${show(value)} is shorter than ${String(rule)}`],
  maxLength: (rule, value, path) =>
    typeof value !== 'string' || [...value].length <= (rule as number)
      ? []
      : [`${path}: ${show(value)} is longer than ${String(rule)}`],
  minimum: (rule, value, path) =>
    typeof value !== 'number' || value >= (rule as number)
      ? []
      : [`${path}: ${show(value)} is below ${String(rule)}`],
  required: (rule, value, path) =>
    isObject(value)
      ? (rule as string[])
          .filter((key) => !(key in value))
          .map((key) => `${path}: ${key} is required`)
      : [],
  maxProperties: (rule, value, path) =>
    isObject(value) && Object.keys(value).length > (rule as number)
      ? [`${path}: more than ${String(rule)} properties`]
      : [],
  properties: (rule, value, path) => {
    if (!isObject(value)) return [];
    const properties = rule as Record<string, Schema>;
    return Object.entries(properties)
      .filter(([key]) => key in value)
      .flatMap(([key, schema]) => schemaErrors(schema, value[key], `${path}.${key}`));
  },
  additionalProperties: (rule, value, path, schema) => {
    if (!isObject(value)) return [];
    const declared = Object.keys(schema.properties ?? {});
    const extra = Object.keys(value).filter((key) => !declared.includes(key));
    if (rule === false) return extra.map((key) => `${path}: ${key} is not allowed`);
    if (rule === true) return [];
    return extra.flatMap((key) => schemaErrors(rule as Schema, value[key], `${path}.${key}`));
  },
  items: (rule, value, path) =>
    Array.isArray(value)
      ? value.flatMap((item, index) => schemaErrors(rule as Schema, item, `${path}[${index}]`))
      : [],
  oneOf: (rule, value, path) => {
    const matching = (rule as Schema[]).filter(
      (schema) => schemaErrors(schema, value, path).length === 0,
    );
    return matching.length === 1
      ? []
      : [`${path}: ${show(value)} matches ${matching.length} of the oneOf schemas, not exactly 1`];
  },
};

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
    case 'boolean':
      return typeof value === type;
    default:
      throw new Error(`Unknown JSON Schema type "${type}"`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values. */
function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, index) => equal(item, b[index]))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => equal(a[key], b[key]));
  }
  return Object.is(a, b);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
