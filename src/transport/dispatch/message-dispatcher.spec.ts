import type { Clock } from '../../common/clock';
import type { ConnectionLimits } from '../../limits/connection-limits';
import type { MessageThrottles } from '../../limits/message-throttles';
import { TransportStats } from '../../metrics/transport-stats';
import { Endpoints, TEXT_EVENT } from '../../protocol/endpoints';
import type { Connection } from '../socket/connection';
import type { EndpointHandlers } from './gateway-handlers';
import { MessageDispatcher } from './message-dispatcher';

const everyFrameAllowed = {
  allowFrame: () => true,
  allowHandler: () => true,
} as unknown as MessageThrottles;
const clock: Clock = { now: () => 0 };

/** A text connection whose handler stays in flight until the test releases it. */
function slowConnection(releases: (() => void)[]) {
  const handled: string[] = [];
  const handler = (_connection: Connection, text: unknown) => {
    handled.push(text as string);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  const connection = {
    isOpen: true,
    endpoint: Endpoints.echo,
    principal: undefined,
    inFlight: false,
    backlog: [] as { text: string; allowed: boolean }[],
    isPaused: false,
    pause() {
      this.isPaused = true;
    },
    resume() {
      this.isPaused = false;
    },
  };
  const gateways = new Map([[Endpoints.echo, { messages: new Map([[TEXT_EVENT, handler]]) }]]);
  return { connection, handled, gateways: gateways as unknown as EndpointHandlers };
}

describe('MessageDispatcher backpressure', () => {
  it('stops reading a connection at MAX_PENDING_FRAMES waiting frames and resumes below half', async () => {
    const limits = { maxPendingFrames: 4 } as ConnectionLimits;
    const dispatcher = new MessageDispatcher(
      everyFrameAllowed,
      clock,
      new TransportStats(),
      limits,
    );
    const releases: (() => void)[] = [];
    const { connection, handled, gateways } = slowConnection(releases);
    dispatcher.useGatewayHandlers(gateways);
    const frame = (text: string) =>
      dispatcher.dispatch(connection as unknown as Connection, Buffer.from(text), false);
    const releaseOne = async () => {
      releases.shift()!();
      // The dispatcher moves on once the handler's promise has settled.
      await new Promise<void>((resolve) => setImmediate(resolve));
    };

    frame('0');
    for (const text of ['1', '2', '3']) frame(text);
    expect(connection.backlog).toHaveLength(3);
    expect(connection.isPaused).toBe(false);
    frame('4');
    expect(connection.isPaused).toBe(true);

    await releaseOne(); // 3 waiting
    await releaseOne(); // 2 waiting: not below half yet
    expect(connection.isPaused).toBe(true);
    await releaseOne(); // 1 waiting
    expect(connection.isPaused).toBe(false);
    expect(handled).toEqual(['0', '1', '2', '3']);
  });
});
