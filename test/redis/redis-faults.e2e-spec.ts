import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Environment } from '../../src/config/load-config';
import type { RunningApp } from '../support/app';
import { scrape, waitForSample } from '../support/metrics';
import { describeWithRedis, inspector, uniquePrefix, waitForSubscribers } from '../support/redis';
import { TestClients } from '../support/ws-client';
import { redisEnv, startInstances, waitForReadiness } from './instances';

const COMMAND_ERRORS = 'switchboard_bus_command_errors_total';
const DISCONNECTS = 'switchboard_bus_subscriber_disconnects_total';
/** The README's ACL for an instance, with the channel pattern of these tests' prefixes. */
const INSTANCE_ACL = [
  'resetchannels',
  '&test:*',
  '-@all',
  '+publish',
  '+subscribe',
  '+unsubscribe',
  '+ping',
  '+info',
  '+client|setname',
  '+quit',
];

/**
 * A Redis that refuses what the bus asks of it: credentials, ACLs without +publish or
 * +subscribe, a subscriber cut for its output buffer. Each on a redis-server of the suite's own,
 * since ACLs and CONFIG SET would disturb a shared one.
 */
describeWithRedis(
  'a Redis with credentials, ACLs and limits',
  (redis) => {
    let admin: Redis;
    const started: RunningApp[] = [];
    const clients: TestClients[] = [];
    const url = (user: string, password: string) =>
      redis().url.replace('redis://', `redis://${user}:${password}@`);
    const start = async (env: Environment) => {
      const [running] = await startInstances(1, env);
      started.push(running);
      const onIt = new TestClients(() => running.wsUrl);
      clients.push(onIt);
      return { running, onIt };
    };

    beforeAll(async () => {
      admin = inspector(redis().url);
      // `full` has what the README's deployment section grants an instance, and nothing more.
      for (const [user, rules] of [
        ['full', INSTANCE_ACL],
        ['nopub', [...INSTANCE_ACL, '-publish']],
        ['nosub', [...INSTANCE_ACL, '-subscribe']],
      ] as const) {
        await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${user}-pass`, ...rules);
      }
      // Connections opened before (this one) stay authenticated as the default user.
      await admin.call('CONFIG', 'SET', 'requirepass', 'default-pass');
    });

    afterEach(async () => {
      await Promise.all(clients.map((onIt) => onIt.closeAll()));
    });

    afterAll(async () => {
      await Promise.all(started.map((running) => running.close()));
      admin?.disconnect();
    });

    it('connects with a password (requirepass) or an ACL user and password in REDIS_URL', async () => {
      const prefix = uniquePrefix();
      const byPassword = await start(redisEnv(url('', 'default-pass'), prefix));
      const byUser = await start(redisEnv(url('full', 'full-pass'), prefix));
      const wrong = await start(redisEnv(url('full', 'wrong'), prefix));
      await waitForReadiness(byPassword.running, 200, 5000);
      await waitForReadiness(byUser.running, 200, 5000);
      expect(await waitForReadiness(wrong.running, 503, 100)).toBeGreaterThanOrEqual(0);

      const [one] = await byPassword.onIt.openAll('/ws/room/auth');
      const [two] = await byUser.onIt.openAll('/ws/room/auth');
      await waitForSubscribers(admin, `${prefix}room:auth`, 2);
      one.send('across');
      expect(await two.nextText()).toBe('across');
    });

    it('logs and counts a PUBLISH the ACL denies, and answers 503 on /ready', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        const denied = await start(redisEnv(url('nopub', 'nopub-pass'), uniquePrefix()));
        await waitForReadiness(denied.running, 200, 5000);
        const [member] = await denied.onIt.openAll('/ws/room/nopub');

        member.send('stays here');

        await waitForSample(denied.running.server, COMMAND_ERRORS, { command: 'PUBLISH' }, 1);
        await waitForReadiness(denied.running, 503, 100);
        expect(warn).toHaveBeenCalledWith(
          expect.stringMatching(/^Redis refused PUBLISH \(NOPERM.*\): the message did not reach/),
        );
      } finally {
        warn.mockRestore();
      }
    });

    it('logs and counts a SUBSCRIBE the ACL denies, answers 503, and retries until allowed', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      try {
        const prefix = uniquePrefix();
        const denied = await start(redisEnv(url('nosub', 'nosub-pass'), prefix));
        const allowed = await start(redisEnv(url('full', 'full-pass'), prefix));
        await waitForReadiness(denied.running, 200, 5000);
        await waitForReadiness(allowed.running, 200, 5000);
        const [listener] = await denied.onIt.openAll('/ws/room/nosub');

        await waitForSample(denied.running.server, COMMAND_ERRORS, { command: 'SUBSCRIBE' }, 1);
        await waitForReadiness(denied.running, 503, 100);
        expect(warn).toHaveBeenCalledWith(
          expect.stringMatching(/^Redis refused SUBSCRIBE \(NOPERM/),
        );

        await admin.call('ACL', 'SETUSER', 'nosub', '+subscribe');
        // Retried every heartbeat (500 ms), not only on reconnection.
        await waitForSubscribers(admin, `${prefix}room:nosub`, 1, 3000);
        await waitForReadiness(denied.running, 200, 1000);
        const [speaker] = await allowed.onIt.openAll('/ws/room/nosub');
        speaker.send('now it arrives');
        expect(await listener.nextText()).toBe('now it arrives');
      } finally {
        warn.mockRestore();
      }
    });

    it('counts a subscriber Redis cut for its output buffer as a disconnect, not as dropped publishes', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const log = jest.spyOn(Logger.prototype, 'log');
      const prefix = uniquePrefix();
      const { running, onIt } = await start(redisEnv(url('full', 'full-pass'), prefix));
      await waitForReadiness(running, 200, 5000);
      const [member] = await onIt.openAll('/ws/room/burst');
      await waitForSubscribers(admin, `${prefix}room:burst`, 1);
      const limit = (await admin.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
      try {
        await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 64kb 32kb 60');
        // One message over the hard limit: Redis closes the subscriber before sending it.
        const big = JSON.stringify({ v: 1, origin: 'elsewhere', data: 'x'.repeat(100_000) });
        await admin.publish(`${prefix}room:burst`, big);

        await waitForSample(running.server, DISCONNECTS, {}, 1);
        expect((await scrape(running.server)).value('switchboard_bus_dropped_total')).toBe(0);
        expect(warn).toHaveBeenCalledWith(
          expect.stringMatching(/^Lost the Redis connection.*is lost for this one/),
        );
        await waitForReadiness(running, 200, 3000);
        expect(log).toHaveBeenCalledWith(
          expect.stringMatching(
            /^Redis subscriber connection restored .*did not reach this one.*client-output-buffer-limit pubsub/,
          ),
        );
        await waitForSubscribers(admin, `${prefix}room:burst`, 1);
        await admin.publish(
          `${prefix}room:burst`,
          JSON.stringify({ v: 1, origin: 'elsewhere', data: 'back' }),
        );
        expect(await member.nextText()).toBe('back');
      } finally {
        await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', limit[1]);
        warn.mockRestore();
        log.mockRestore();
      }
    });
  },
  { ownServer: true },
);
