/**
 * The layering rule of src/ (README "Layout"): a module imports only from its own layer or a lower
 * one, and nothing imports in a cycle. `npm run lint` runs this check (`npm run lint:layers`).
 *
 *   1 base      common, config, protocol, logging, metrics/transport-stats, auth/principal
 *   2 socket    transport/socket: a connection's state and I/O, prepared frames, write batching
 *   3 services  auth, connections, rooms, limits, heartbeat, bus
 *   4 transport transport/upgrade, transport/dispatch, the adapter, TransportModule
 *   5 app       pubsub, history, presence, features, api, health, lifecycle, console, metrics,
 *             cli, the app module
 */
const BASE =
  '^src/(common|config|protocol|logging)/|^src/metrics/transport-stats\\.ts$|^src/auth/principal\\.ts$';
const SOCKET = '^src/transport/socket/';
const SERVICES = '^src/(auth|connections|rooms|limits|heartbeat|bus)/';
const TRANSPORT = '^src/transport/';

/**
 * Modules matching `path` (minus the lower layers in `below`) may import only from `allowed`.
 * @param {string} name
 * @param {string} comment
 * @param {string} path
 * @param {string | undefined} below
 * @param {string[]} allowed
 */
const layer = (name, comment, path, below, allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path, ...(below ? { pathNot: below } : {}) },
  to: { path: '^src/', pathNot: allowed.join('|') },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules import in one direction only: a cycle hides which piece owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer('base-imports-base', 'The base layer depends on nothing else in src.', BASE, undefined, [
      BASE,
    ]),
    layer(
      'socket-imports-base',
      'Socket I/O knows nothing of services, dispatch or features.',
      SOCKET,
      undefined,
      [BASE, SOCKET],
    ),
    layer(
      'services-stay-below-the-transport',
      'Services reach sockets through transport/socket only, never the upgrade or dispatch path.',
      SERVICES,
      BASE,
      [BASE, SOCKET, SERVICES],
    ),
    layer(
      'transport-stays-below-the-app',
      'Nothing in the transport depends on a feature.',
      TRANSPORT,
      SOCKET,
      [BASE, SERVICES, TRANSPORT],
    ),
    {
      name: 'peers-not-connections',
      comment:
        'Outside the transport, a client is a Peer (transport/socket/peer.ts), never the ws subclass.',
      severity: 'error',
      from: { path: '^src/', pathNot: TRANSPORT },
      to: { path: '^src/transport/socket/connection\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Specs may assemble pieces from any layer.
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
