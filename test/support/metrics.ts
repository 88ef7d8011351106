import type { Server } from 'node:http';
import request from 'supertest';
import { WAIT_MS } from './wait';

type Labels = Readonly<Record<string, string>>;

/** One sample of the text format: `name{label="value",…} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** A parsed exposition: every sample and the declared `# TYPE` of each metric. */
export class Exposition {
  constructor(
    readonly samples: readonly Sample[],
    readonly types: ReadonlyMap<string, string>,
  ) {}

  /** Every sample of `name`. */
  series(name: string): Sample[] {
    return this.samples.filter((sample) => sample.name === name);
  }

  /** The value of the sample of `name` whose labels are exactly `labels`, if there is one. */
  value(name: string, labels: Labels = {}): number | undefined {
    const wanted = Object.entries(labels);
    return this.series(name).find(
      (sample) =>
        Object.keys(sample.labels).length === wanted.length &&
        wanted.every(([key, value]) => sample.labels[key] === value),
    )?.value;
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;

/**
 * Parses the Prometheus text format (0.0.4): samples and `# TYPE` lines; `# HELP` and other
 * comments are skipped. Throws on any line it cannot read, so a malformed exposition fails.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = TYPE.exec(line);
      if (type) types.set(type[1], type[2]);
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`Not a sample line: ${line}`);
    samples.push({
      name: sample[1],
      labels: parseLabels(sample[2] ?? '', line),
      value: parseValue(sample[3], line),
    });
  }
  return new Exposition(samples, types);
}

function parseLabels(text: string, line: string): Labels {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const label = LABEL.exec(text);
    if (!label) throw new Error(`Malformed labels in: ${line}`);
    labels[label[1]] = label[2].replace(/\\(.)/g, (_, escaped: string) =>
      escaped === 'n' ? '\n' : escaped,
    );
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  // Go's ParseFloat reads NaN and Inf in any case, and prom-client writes "Nan".
  const special = /^([+-])?(inf|nan)$/i.exec(text);
  if (special) {
    if (special[2].toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`Malformed value in: ${line}`);
  return value;
}

/** GET /metrics, which must answer 200 in the Prometheus text format, parsed. */
export async function scrape(server: Server): Promise<Exposition> {
  const response = await request(server).get('/metrics');
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return parseExposition(response.text);
}

/**
 * Scrapes until the sample of `name` with exactly `labels` has `expected` as its value, for
 * state the server updates after the event a test can await (a close seen by the client first).
 * Bounded: fails after `timeoutMs`, showing the last value read.
 */
export async function waitForSample(
  server: Server,
  name: string,
  labels: Labels,
  expected: number,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await scrape(server)).value(name, labels);
    if (value === expected) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${name}${JSON.stringify(labels)} to be ` +
          `${expected}; it is ${String(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
