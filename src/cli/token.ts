/**
 * Prints a signed access token for the configured secret, and nothing else, on one line:
 *
 *   npm run -s token -- --sub alice [--name Alice] [--ttl 1h]     (a checkout, through ts-node)
 *   node dist/cli/token.js --sub alice [--name Alice] [--ttl 1h]  (a build or the production image)
 *
 * JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE apply as they do for the server. Without JWT_SECRET
 * (outside production) the token is signed with the public development secret and a warning goes
 * to stderr. Exit codes: 0 printed, 1 invalid configuration, 2 usage error.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { TokenSigner } from '../auth/token-signer';
import { parseTtl } from '../auth/ttl';
import { SystemClock } from '../common/clock';
import { ConfigError, loadConfigFromProcess } from '../config/load-config';

const OPTIONS = '--sub <subject> [--name <display name>] [--ttl <lifetime>]';
const USAGE =
  `Usage: npm run -s token -- ${OPTIONS}\n` +
  `   or: node dist/cli/token.js ${OPTIONS}\n` +
  '  --ttl  30s, 15m, 1h, 7d or plain seconds (default 1h)\n';

const DEFAULT_TTL = '1h';

function run(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sub: { type: 'string' },
        name: { type: 'string' },
        ttl: { type: 'string', default: DEFAULT_TTL },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.sub === undefined || values.sub.trim() === '') return usageError('--sub is required');
  const ttlSeconds = parseTtl(values.ttl);
  if (ttlSeconds === undefined) return usageError(`--ttl: cannot read "${values.ttl}"`);

  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  if (config.jwt.usingDevelopmentSecret) {
    process.stderr.write(
      'warning: JWT_SECRET is not set: signing with the public development secret ' +
        '(only servers without JWT_SECRET accept this token)\n',
    );
  }
  const signer = new TokenSigner(config.jwt, new SystemClock());
  process.stdout.write(`${signer.sign({ sub: values.sub, name: values.name }, ttlSeconds)}\n`);
  return 0;
}

function usageError(problem: string): number {
  process.stderr.write(`${problem}\n${USAGE}`);
  return 2;
}

// exitCode rather than exit(), so that stdout is flushed when it is a pipe.
process.exitCode = run(process.argv.slice(2));
