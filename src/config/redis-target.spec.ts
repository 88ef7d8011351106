import { ConfigError, loadConfig } from './load-config';
import { parseRedisTarget } from './redis-target';

const PREFIX = 'switchboard:';

describe('parseRedisTarget', () => {
  it('is undefined (the in-memory bus) with neither variable', () => {
    expect(parseRedisTarget(undefined, undefined, PREFIX)).toEqual({ target: undefined });
  });

  it('reads REDIS_URL as one Redis', () => {
    expect(parseRedisTarget('redis://h:6379', undefined, PREFIX).target).toEqual({
      kind: 'single',
      url: 'redis://h:6379',
    });
  });

  it('reads host:port seeds, IPv6 included', () => {
    expect(parseRedisTarget(undefined, ' 10.0.0.1:7000, redis-2:7001,[::1]:7002', PREFIX)).toEqual({
      target: {
        kind: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        username: undefined,
        password: undefined,
        tls: false,
      },
    });
  });

  it('takes credentials and TLS from URL seeds that agree', () => {
    const { target } = parseRedisTarget(
      undefined,
      'rediss://sb:p%40ss@a:7000,rediss://sb:p%40ss@b:7000',
      PREFIX,
    );
    expect(target).toMatchObject({ kind: 'cluster', username: 'sb', password: 'p@ss', tls: true });
  });

  it.each([
    ['a port-less seed', 'a:7000,b'],
    ['a port out of range', 'a:70000'],
    ['an empty seed', 'a:7000,,b:7000'],
    ['a URL without a port', 'redis://a'],
    ['a URL with a path', 'redis://a:7000/1'],
    ['seeds of different schemes', 'redis://a:7000,rediss://b:7000'],
    ['seeds with different passwords', 'redis://:one@a:7000,redis://:two@b:7000'],
    ['URL seeds mixed with host:port', 'redis://:one@a:7000,b:7000'],
  ])('refuses %s, naming REDIS_CLUSTER_NODES and quoting no password', (_, value) => {
    const { problems } = parseRedisTarget(undefined, value, PREFIX);
    expect(problems).toHaveLength(1);
    expect(problems?.[0]).toMatch(/^REDIS_CLUSTER_NODES: /);
    expect(problems?.[0]).not.toMatch(/one|two/);
  });

  it('refuses both REDIS_URL and REDIS_CLUSTER_NODES, naming both', () => {
    expect(parseRedisTarget('redis://h:6379', 'a:7000', PREFIX).problems).toEqual([
      expect.stringMatching(/^REDIS_URL, REDIS_CLUSTER_NODES: set one or the other/),
    ]);
  });

  it('refuses a REDIS_PREFIX with a brace: it would change the hash tags', () => {
    expect(parseRedisTarget(undefined, undefined, 'sb{x}:').problems).toEqual([
      expect.stringMatching(/^REDIS_PREFIX: must not contain/),
    ]);
  });
});

describe('loadConfig with Redis targets', () => {
  it('puts the target in config.redis', () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: 'a:7000' });
    expect(config.redis.target).toMatchObject({
      kind: 'cluster',
      nodes: [{ host: 'a', port: 7000 }],
    });
  });

  it('refuses to start with both, and never echoes a cluster password', () => {
    const env = {
      NODE_ENV: 'test',
      REDIS_URL: 'redis://:hunter2@h:6379',
      REDIS_CLUSTER_NODES: 'redis://:hunter2@a:7000,b',
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(
      /^(?![\s\S]*hunter2)[\s\S]*REDIS_URL, REDIS_CLUSTER_NODES/,
    );
    expect(() =>
      loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: 'redis://:hunter2@a:7000,b' }),
    ).toThrow(/^(?![\s\S]*hunter2)[\s\S]*REDIS_CLUSTER_NODES/);
  });
});
