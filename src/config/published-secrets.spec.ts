import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVELOPMENT_JWT_SECRET } from './development-secret';
import { PUBLISHED_JWT_SECRETS } from './published-secrets';

const ROOT = join(__dirname, '..', '..');

/** Files an operator copies settings from: deployment files and documentation. */
function deploymentFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
  return tracked.filter((file) =>
    /^(README\.md|\.env\.example|docker-compose\.ya?ml|Dockerfile|docs\/.+\.(md|ya?ml))$/.test(
      file,
    ),
  );
}

/** Literal JWT_SECRET values in `text`: `JWT_SECRET=x`, `JWT_SECRET: x`, `${JWT_SECRET:-x}`. */
function literalSecrets(text: string): string[] {
  const values: string[] = [];
  for (const match of text.matchAll(/\$\{JWT_SECRET:-([^}]+)\}/g)) values.push(match[1]);
  for (const match of text.matchAll(/\bJWT_SECRET(?:=|:[ \t]+)['"]?([^\s'"`$]+)/g)) {
    values.push(match[1]);
  }
  return values;
}

describe('published JWT secrets', () => {
  it('include the development secret', () => {
    expect(PUBLISHED_JWT_SECRETS.has(DEVELOPMENT_JWT_SECRET)).toBe(true);
  });

  it('include every JWT_SECRET value written in a deployment file or the documentation', () => {
    const files = deploymentFiles();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docker-compose.yml']));
    const unlisted = files.flatMap((file) =>
      literalSecrets(readFileSync(join(ROOT, file), 'utf8'))
        .filter((secret) => !PUBLISHED_JWT_SECRETS.has(secret))
        .map((secret) => `${file}: ${secret}`),
    );
    expect(unlisted).toEqual([]);
  });

  it('finds a compose default and an assignment (guards the patterns)', () => {
    expect(
      literalSecrets('JWT_SECRET: ${JWT_SECRET:-dev-default}\nJWT_SECRET=abc npm start'),
    ).toEqual(['dev-default', 'abc']);
  });
});
