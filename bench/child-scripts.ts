/**
 * Where the bench's files are, and what every bench command prepares before it starts a process:
 * a built dist/ and the child scripts transpiled to plain JavaScript.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { progress } from './progress';

export const ROOT = resolve(__dirname, '..');
export const RESULTS = join(ROOT, 'bench', 'results');
/**
 * The child processes' scripts, transpiled from bench/*.ts so they run on plain `node` like
 * dist/main.js does. Under node_modules/ so that `ws` resolves and no linter or formatter sees them.
 */
export const JS_DIR = join(ROOT, 'node_modules', '.cache', 'switchboard-bench');
export const MAIN = join(ROOT, 'dist', 'main.js');
const CHILD_SCRIPTS = [
  'baseline-server',
  'load-client',
  'histogram',
  'client-protocol',
  'attack-payloads',
  'enhancers-server',
];

/** Builds dist/ when it is missing, as `npm run build` would. */
export function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  progress('dist/main.js is missing: npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0 || !existsSync(MAIN)) throw new Error('npm run build failed');
}

export function compileChildScripts(): void {
  mkdirSync(JS_DIR, { recursive: true });
  for (const name of CHILD_SCRIPTS) {
    const fileName = join(ROOT, 'bench', `${name}.ts`);
    const { outputText } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
      fileName,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2023,
        esModuleInterop: true,
        // enhancers-server.ts declares Nest gateways.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    writeFileSync(join(JS_DIR, `${name}.js`), outputText);
  }
}
