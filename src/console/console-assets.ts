import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The folder holding the console's files. It sits beside this module both in `src/` (ts-node,
 * tests) and in `dist/`, where `nest build` copies it (nest-cli.json "assets"); the Docker image,
 * which builds from `src/` alone, therefore ships it too.
 */
export const CONSOLE_PUBLIC_DIR = join(__dirname, 'public');

/** The route of each console file, with the file and its content type. */
export const CONSOLE_FILES = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/console.css': { file: 'console.css', contentType: 'text/css; charset=utf-8' },
  '/console.js': { file: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  /** The client package's browser bundle, copied here by `npm run build:client` (not in git). */
  '/client.js': { file: 'client.js', contentType: 'text/javascript; charset=utf-8' },
} as const;

export type ConsoleRoute = keyof typeof CONSOLE_FILES;

/**
 * The console's files, read once at boot: they are a few kilobytes, and a build that lost them
 * fails at startup naming the missing path, instead of answering 404 later.
 */
export class ConsoleAssets {
  private readonly texts: ReadonlyMap<ConsoleRoute, string>;

  constructor(dir: string = CONSOLE_PUBLIC_DIR) {
    const routes = Object.keys(CONSOLE_FILES) as ConsoleRoute[];
    this.texts = new Map(
      routes.map((route) => [route, readFileSync(join(dir, CONSOLE_FILES[route].file), 'utf8')]),
    );
  }

  /** The text of the file served at `route`. */
  get(route: ConsoleRoute): string {
    const text = this.texts.get(route);
    if (text === undefined) throw new Error(`No console file for ${route}`);
    return text;
  }
}
