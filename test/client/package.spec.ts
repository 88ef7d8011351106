import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..', '..');
const CLIENT = join(ROOT, 'client');
const SIZE_BUDGET_BYTES = 6 * 1024;

/** The package as users get it: its size in a page, and `npm pack` installed elsewhere. */
describe('@switchboard/client package', () => {
  it(`is at most ${SIZE_BUDGET_BYTES} bytes minified and gzipped`, async () => {
    const result = await build({
      entryPoints: [join(CLIENT, 'src', 'index.ts')],
      bundle: true,
      format: 'esm',
      minify: true,
      target: 'es2022',
      legalComments: 'none',
      write: false,
    });
    const gzipped = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
    console.log(
      `@switchboard/client: ${result.outputFiles[0].contents.length} B minified, ${gzipped} B gzipped`,
    );
    expect(gzipped).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  });

  describe('npm pack, installed into a fresh project', () => {
    let project: string;
    const run = (command: string, args: string[], cwd = project) => {
      try {
        return execFileSync(command, args, {
          cwd,
          encoding: 'utf8',
          timeout: 120_000,
          stdio: 'pipe',
        });
      } catch (error) {
        const { stdout, stderr } = error as { stdout?: string; stderr?: string };
        throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
      }
    };

    beforeAll(() => {
      project = mkdtempSync(join(tmpdir(), 'switchboard-client-'));
      const [packed] = JSON.parse(
        run('npm', ['pack', '--json', '--pack-destination', project], CLIENT),
      ) as { filename: string; files: { path: string }[] }[];
      const paths = packed.files.map((file) => file.path);
      expect(paths).toContain('dist/index.js');
      expect(paths).toContain('dist/index.d.ts');
      expect(paths.filter((path) => !/^(package\.json|dist\/.*\.(js|d\.ts))$/.test(path))).toEqual(
        [],
      );
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      );
      // No runtime dependencies: the install needs no registry.
      run('npm', [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        join(project, packed.filename),
      ]);
    }, 180_000);

    afterAll(() => {
      if (project) rmSync(project, { recursive: true, force: true });
    });

    it('has no runtime dependencies', () => {
      expect(
        readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.')),
      ).toEqual(['@switchboard']);
    });

    it('works from plain JavaScript (ESM)', () => {
      writeFileSync(
        join(project, 'use.js'),
        `import { SwitchboardClient } from '@switchboard/client';
class FakeSocket { constructor(url) { FakeSocket.url = url; this.readyState = 0; } send() {} close() {} }
const client = new SwitchboardClient('ws://example.test/ws/json', { WebSocket: FakeSocket, token: 't k' });
console.log(JSON.stringify({ state: client.state, url: FakeSocket.url }));
client.close();
`,
      );
      expect(JSON.parse(run(process.execPath, ['use.js']))).toEqual({
        state: 'connecting',
        url: 'ws://example.test/ws/json?token=t%20k',
      });
    });

    it('type-checks from TypeScript (NodeNext), and its types catch misuse', () => {
      writeFileSync(
        join(project, 'use.ts'),
        `import { SwitchboardClient, type PublishedData, type SwitchboardError } from '@switchboard/client';
declare const WebSocket: import('@switchboard/client').WebSocketConstructor;
const client = new SwitchboardClient(['ws://a/ws/json', 'ws://b/ws/json'], { WebSocket, getToken: async () => 'jwt' });
client.on('gap', ({ channel }) => console.log(channel.toUpperCase()));
const sent: Promise<PublishedData> = client.publish('news', { text: 'hi' });
void sent.catch((error: SwitchboardError) => error.code);
// @ts-expect-error a channel is a string
void client.publish(42, 'hi');
// @ts-expect-error no such event
client.on('gone', () => undefined);
`,
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2022', 'dom'],
            types: [],
          },
          files: ['use.ts'],
        }),
      );
      run(process.execPath, [tsc, '-p', 'tsconfig.json']);
    });
  });
});
