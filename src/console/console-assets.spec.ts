import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_FILES, CONSOLE_PUBLIC_DIR, ConsoleAssets } from './console-assets';

describe('ConsoleAssets', () => {
  it('reads every console file from the folder beside it', () => {
    const assets = new ConsoleAssets();
    expect(assets.get('/')).toContain('<title>Switchboard console</title>');
    expect(assets.get('/console.js')).toContain('new WebSocket(');
    expect(assets.get('/console.css')).toContain('.entry');
    expect(CONSOLE_PUBLIC_DIR).toBe(join(__dirname, 'public'));
  });

  it('fails at construction, naming the path, when a file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
    try {
      writeFileSync(join(dir, CONSOLE_FILES['/'].file), '<!doctype html>');
      expect(() => new ConsoleAssets(dir)).toThrow(join(dir, CONSOLE_FILES['/console.css'].file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
