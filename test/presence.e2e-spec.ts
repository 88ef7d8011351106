import request from 'supertest';
import { TokenSigner } from '../src/auth/token-signer';
import { SystemClock } from '../src/common/clock';
import { MAX_LISTED_MEMBERS } from '../src/presence/presence-member';
import { PresenceStore, MemoryPresenceStore } from '../src/presence/presence-store';
import { PresenceService } from '../src/presence/presence.service';
import { useApp } from './support/app';
import {
  nextJson,
  reply,
  sendRequest,
  validationFailed,
  type JsonFrame,
} from './support/json-client';
import { waitForValue } from './support/wait';
import type { TestClient } from './support/ws-client';

const JWT_SECRET = 'e2e-presence-secret';
const API_KEY = 'presence-admin-0123456789';
const DIFF_MS = 400;
const signer = new TokenSigner({ secret: JWT_SECRET }, new SystemClock());

describe.each(['0', '10'])(
  'presence on /ws/json (in-memory engine, HISTORY_SIZE=%s)',
  (historySize) => {
    const fixture = useApp({
      JWT_SECRET,
      RATE_LIMIT_MAX: '100000',
      PRESENCE_DIFF_MS: String(DIFF_MS),
      API_KEYS: `ops:${API_KEY}`,
      HISTORY_SIZE: historySize,
    });
    let channelCount = 0;
    const freshChannel = () => `presence-${++channelCount}`;

    async function member(channel: string, sub?: string, presence?: boolean): Promise<TestClient> {
      const query = sub === undefined ? '' : `?token=${signer.sign({ sub }, 60)}`;
      const client = await fixture.clients.open(`/ws/json${query}`);
      sendRequest(
        client,
        'subscribe',
        presence === undefined ? { channel } : { channel, presence },
        's',
      );
      expect(await nextJson(client)).toMatchObject(reply('subscribed', { channel }, 's'));
      return client;
    }

    async function presenceOf(asker: TestClient, channel: string): Promise<JsonFrame> {
      sendRequest(asker, 'presence', { channel }, 'p');
      return (await nextJson(asker)) as JsonFrame;
    }

    it('answers presence with the members, counting clients and distinct users', async () => {
      const channel = freshChannel();
      await member(channel, 'alice');
      await member(channel, 'alice');
      await member(channel, 'bob');
      await member(channel);
      const asker = await fixture.clients.open('/ws/json');
      const frame = await presenceOf(asker, channel);
      expect(frame).toMatchObject({ type: 'presence', id: 'p' });
      const data = frame.data as { clients: number; users: number; members: { user: unknown }[] };
      expect(data).toMatchObject({ channel, clients: 4, users: 2 });
      expect(data.members.map(({ user }) => user).sort()).toEqual(['alice', 'alice', 'bob', null]);
      expect(
        data.members.every((entry) => typeof (entry as { client?: unknown }).client === 'string'),
      ).toBe(true);
      expect((data as { truncated?: boolean }).truncated).toBeUndefined();
    });

    it('answers the same data on GET /api/channels/{channel}/presence', async () => {
      const channel = freshChannel();
      await member(channel, 'carol');
      const response = await request(fixture.running.server)
        .get(`/api/channels/${channel}/presence`)
        .set('X-API-Key', API_KEY);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        channel,
        clients: 1,
        users: 1,
        members: [{ client: expect.any(String) as unknown, user: 'carol' }],
      });
    });

    it('refuses a bad channel or presence flag with Validation failed', async () => {
      const client = await fixture.clients.open('/ws/json');
      sendRequest(client, 'presence', { channel: 'bad channel' }, 1);
      expect(await nextJson(client)).toEqual(validationFailed(1, 'payload.channel'));
      sendRequest(client, 'subscribe', { channel: 'ok', presence: 'yes' }, 2);
      expect(await nextJson(client)).toEqual(validationFailed(2, 'payload.presence'));
    });

    it('sends presence_diff batches only to presence:true subscribers', async () => {
      const channel = freshChannel();
      const watcher = await member(channel, 'watcher', true);
      const plain = await member(channel, 'plain');
      // The watcher's own join and the plain member's come in one batch.
      const first = (await nextJson(watcher)) as JsonFrame;
      expect(first.type).toBe('presence_diff');
      const joins = (first.data as { joins: { user: string }[] }).joins.map(({ user }) => user);
      expect(joins.sort()).toEqual(['plain', 'watcher']);
      // A storm of joins and leaves within one batch costs one frame; churned members cancel out.
      const stayer = await member(channel, 'stayer');
      const churner = await member(channel, 'churner');
      await churner.close();
      sendRequest(plain, 'unsubscribe', { channel }, 'u');
      expect(await nextJson(plain)).toEqual(reply('unsubscribed', { channel }, 'u'));
      const diff = (await nextJson(watcher)) as JsonFrame;
      expect(diff).toEqual({
        type: 'presence_diff',
        data: {
          channel,
          joins: [{ client: expect.any(String) as unknown, user: 'stayer' }],
          leaves: [{ client: expect.any(String) as unknown, user: 'plain' }],
        },
      });
      expect(plain.texts.filter((text) => text.includes('presence_diff'))).toEqual([]);
      void stayer;
    });

    it(`caps members at ${MAX_LISTED_MEMBERS} with truncated:true, counts exact`, async () => {
      const channel = freshChannel();
      const store = fixture.running.app.get(PresenceStore);
      for (let i = 0; i < MAX_LISTED_MEMBERS + 5; i++) {
        await store.add(channel, { client: `fake-${i}`, user: `u${i % 10}` });
      }
      const asker = await fixture.clients.open('/ws/json');
      const { data } = await presenceOf(asker, channel);
      expect(data).toMatchObject({
        channel,
        clients: MAX_LISTED_MEMBERS + 5,
        users: 10,
        truncated: true,
      });
      expect((data as { members: unknown[] }).members).toHaveLength(MAX_LISTED_MEMBERS);
      for (let i = 0; i < MAX_LISTED_MEMBERS + 5; i++) {
        await store.remove(channel, { client: `fake-${i}`, user: null });
      }
    });

    it('frees memory when channels empty', async () => {
      const channel = freshChannel();
      await member(channel, 'a', true);
      await member(channel, 'b');
      const presence = fixture.running.app.get(PresenceService);
      const store = fixture.running.app.get<PresenceStore, MemoryPresenceStore>(PresenceStore);
      await fixture.clients.closeAll();
      const footprint = () =>
        `${presence.footprint.channels}/${presence.footprint.pending}/${store.channelCount}`;
      await waitForValue(footprint, '0/0/0', 'local channels/pending batches/stored channels');
    });
  },
);
