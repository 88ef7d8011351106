import WebSocket from 'ws';
import { TransportStats } from '../../metrics/transport-stats';
import { Connection, type ConnectionHost } from './connection';

/**
 * An open connection with no socket under it: `bufferedAmount` says how far behind it is, and
 * `close`/`terminate` record what the slow-consumer path did.
 */
function slowConnection(host: ConnectionHost) {
  const connection = Object.create(Connection.prototype) as Connection;
  const close = jest.fn();
  const terminate = jest.fn();
  Object.defineProperties(connection, {
    readyState: { value: WebSocket.OPEN },
    bufferedAmount: { value: host.maxBufferedBytes + 1 },
    close: { value: close },
    terminate: { value: terminate },
  });
  connection.host = host;
  return { connection, close, terminate };
}

describe('Connection', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('terminates a shed slow consumer after SLOW_CONSUMER_GRACE_MS as configured', () => {
    const host = { stats: new TransportStats(), maxBufferedBytes: 1024, slowConsumerGraceMs: 50 };
    const { connection, close, terminate } = slowConnection(host);

    connection.flushBatch();
    expect(close).toHaveBeenCalledWith(1013, 'Slow consumer');
    expect(host.stats.slowConsumers).toBe(1);
    jest.advanceTimersByTime(49);
    expect(terminate).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(terminate).toHaveBeenCalledTimes(1);
  });
});
