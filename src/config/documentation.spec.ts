// environment.ts decorates with class-transformer's @Type, which needs the Reflect metadata API.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentVariables } from './environment';

/**
 * Keeps the documentation of the environment in step with EnvironmentVariables: every variable
 * the class defines is in .env.example and in the README's configuration table, with its
 * default, and neither documents a variable the class does not define.
 */

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * Variables declared in the class source: `  NAME = default`, `  NAME: Type = default`,
 * `  NAME?: Type`. Read from the source as well as from an instance, because an optional
 * variable without a default may not be an own property of the instance.
 */
function declaredVariables(): string[] {
  const source = read('src/config/environment.ts');
  const body = source.slice(source.indexOf('export class EnvironmentVariables'));
  const classBody = body.slice(0, body.search(/^}/m));
  return [...classBody.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\??\s*[:=]/gm)].map((m) => m[1]);
}

const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
const variables = [...new Set([...Object.keys(defaults), ...declaredVariables()])].sort();

/** The default as documented: its string form, or undefined for a variable without one. */
function documentedDefault(name: string): string | undefined {
  const value = defaults[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new Error(`${name} has a default this test cannot render: ${JSON.stringify(value)}`);
}

/** `NAME=value` lines of .env.example; a commented-out `# NAME=` line has value undefined. */
function envExampleEntries(): Map<string, string | undefined> {
  const entries = new Map<string, string | undefined>();
  for (const line of read('.env.example').split('\n')) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, commented, name, value] = match;
    if (entries.has(name)) throw new Error(`.env.example sets ${name} twice`);
    entries.set(name, commented ? undefined : value);
  }
  return entries;
}

/** Rows of the README's configuration table: variable name → the Default cell. */
function readmeTable(): Map<string, string> {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Configuration');
  if (start === -1) throw new Error('README.md has no "## Configuration" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined) rows.set(name, cells[2] ?? '');
  }
  return rows;
}

/** name → documented default, for the names in `names`, as a comparable object. */
function defaultsOf(names: readonly string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((name) => [name, documentedDefault(name)]));
}

describe('environment documentation', () => {
  it('reads the variables from the class source', () => {
    // Guards the regex: every property of an instance must be found in the source too.
    expect(declaredVariables()).toEqual(expect.arrayContaining(Object.keys(defaults)));
    expect(declaredVariables()).toEqual(expect.arrayContaining(['JWT_SECRET', 'REDIS_URL']));
  });

  describe('.env.example', () => {
    const entries = envExampleEntries();

    it('lists every variable the class defines', () => {
      expect(variables.filter((name) => !entries.has(name))).toEqual([]);
    });

    it('lists no variable the class does not define', () => {
      expect([...entries.keys()].filter((name) => !variables.includes(name))).toEqual([]);
    });

    it('leaves every variable at its default, commented out when it has none', () => {
      const listed = variables.filter((name) => entries.has(name));
      expect(Object.fromEntries(listed.map((name) => [name, entries.get(name)]))).toEqual(
        defaultsOf(listed),
      );
    });
  });

  describe('README configuration table', () => {
    const rows = readmeTable();

    it('has a row for every variable the class defines', () => {
      expect(variables.filter((name) => !rows.has(name))).toEqual([]);
    });

    it('has no row for a variable the class does not define', () => {
      expect([...rows.keys()].filter((name) => !variables.includes(name))).toEqual([]);
    });

    it('states the default of every variable ("unset" when it has none)', () => {
      const listed = variables.filter((name) => rows.has(name));
      const expected = Object.fromEntries(
        Object.entries(defaultsOf(listed)).map(([name, value]) => [
          name,
          value === undefined ? 'unset' : `\`${value}\``,
        ]),
      );
      expect(Object.fromEntries(listed.map((name) => [name, rows.get(name)]))).toEqual(expected);
    });
  });
});
