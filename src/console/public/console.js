// The Switchboard browser console: plain JavaScript, no build step, served by ConsoleController.
// It connects to the server that served it, so its sockets carry this page's Origin, which
// ALLOWED_ORIGINS must list when it is set. /ws/json runs on the client package (client/, served
// bundled as /client.js): it reconnects, resubscribes from the last offset and answers
// heartbeats; the text endpoints use a bare WebSocket.
import { SwitchboardClient } from './client.js';

/** The endpoints of docs/protocol.md; `{param}` is replaced by the percent-encoded id. */
const ENDPOINTS = {
  echo: { path: '/ws' },
  chat: { path: '/ws/{param}', param: 'Client id', example: 'alice' },
  room: { path: '/ws/room/{param}', param: 'Room id', example: 'lobby' },
  subscribe: { path: '/ws/subscribe/{param}', param: 'Channel', example: 'news' },
  secure: { path: '/ws/secure' },
  json: { path: '/ws/json' },
};

/** Older entries are dropped past this many, so a busy channel cannot exhaust the tab. */
const MAX_LOG_ENTRIES = 1000;

const DIRECTION_LABELS = { out: 'sent', in: 'received', event: 'event', error: 'error' };
const DIRECTION_MARKS = { out: '→', in: '←', event: '•', error: '!' };

function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The console page has no #${id}`);
  return element;
}

const ui = {
  connectForm: byId('connect-form'),
  endpoint: byId('endpoint'),
  paramField: byId('param-field'),
  paramLabel: byId('param-label'),
  param: byId('param'),
  token: byId('token'),
  tokenSub: byId('token-sub'),
  devToken: byId('dev-token'),
  urlPreview: byId('url-preview'),
  connect: byId('connect'),
  disconnect: byId('disconnect'),
  status: byId('status'),
  closeInfo: byId('close-info'),
  closeCode: byId('close-code'),
  closeReason: byId('close-reason'),
  sendForm: byId('send-form'),
  templates: byId('templates'),
  jsonChannel: byId('json-channel'),
  message: byId('message'),
  send: byId('send'),
  log: byId('log'),
  clearLog: byId('clear-log'),
  reconnects: byId('reconnects'),
  channels: byId('channels'),
};

/** Status texts of the client's states (/ws/json). */
const CLIENT_STATES = {
  connecting: 'Connecting',
  open: 'Connected',
  reconnecting: 'Reconnecting',
  closed: 'Closed',
};

/** Requests the client sends itself, so it can match replies and resubscribe after reconnects. */
const CLIENT_REQUESTS = new Set(['ping', 'subscribe', 'unsubscribe', 'publish', 'refresh']);

/** The socket of the current text-endpoint session; null when there is none. */
let socket = null;
/** The client of the current /ws/json session; null when there is none. */
let client = null;
/** The /ws/json session's subscriptions by channel, with the last offset each received. */
const subscriptions = new Map();
let reconnects = 0;
let nextRequestId = 1;
/** The id typed for each endpoint, so switching endpoints back and forth keeps it. */
const paramValues = new Map();
let paramEndpoint = ui.endpoint.value;

function selectedEndpoint() {
  return ENDPOINTS[ui.endpoint.value] ?? ENDPOINTS.echo;
}

/** The socket URL on this page's host; with `redact`, the token is shown as an ellipsis. */
function socketUrl({ redact }) {
  const endpoint = selectedEndpoint();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const path = endpoint.param
    ? endpoint.path.replace('{param}', encodeURIComponent(ui.param.value.trim()))
    : endpoint.path;
  const token = ui.token.value.trim();
  const query = token ? `?token=${redact ? '…' : encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}${path}${query}`;
}

function twoDigits(value) {
  return String(value).padStart(2, '0');
}

/** Local wall-clock time with milliseconds, e.g. 14:03:27.081. */
function formatTime(date) {
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}.${ms}`;
}

/**
 * Adds one line to the frame log: `out` sent, `in` received, `event` or `error`; `offset`, when
 * given, is shown beside a channel message.
 */
function log(direction, text, offset) {
  const now = new Date();
  const entry = document.createElement('li');
  entry.className = `entry entry-${direction}`;
  entry.dataset.testid = 'log-entry';
  entry.dataset.direction = direction;

  const time = document.createElement('time');
  time.className = 'time';
  time.dateTime = now.toISOString();
  time.textContent = formatTime(now);

  const mark = document.createElement('span');
  mark.className = 'direction';
  mark.title = DIRECTION_LABELS[direction];
  const glyph = document.createElement('span');
  glyph.setAttribute('aria-hidden', 'true');
  glyph.textContent = DIRECTION_MARKS[direction];
  const label = document.createElement('span');
  label.className = 'visually-hidden';
  label.textContent = DIRECTION_LABELS[direction];
  mark.append(glyph, label);

  const body = document.createElement('span');
  body.className = 'text';
  body.dataset.testid = 'log-text';
  body.textContent = text;

  entry.append(time, mark, body);
  if (offset !== undefined) {
    const badge = document.createElement('span');
    badge.className = 'offset';
    badge.dataset.testid = 'log-offset';
    badge.title = 'offset';
    badge.textContent = `#${offset}`;
    entry.append(badge);
  }
  const atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 24;
  ui.log.append(entry);
  while (ui.log.childElementCount > MAX_LOG_ENTRIES) ui.log.firstElementChild.remove();
  if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
}

function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** Enables the controls that fit the session's state. */
function refreshControls() {
  const open = client
    ? client.state === 'open'
    : socket !== null && socket.readyState === WebSocket.OPEN;
  const session = socket !== null || client !== null;
  ui.connect.disabled = session;
  ui.disconnect.disabled = !session;
  ui.endpoint.disabled = session;
  ui.param.disabled = session;
  ui.send.disabled = !open || isBlank(ui.message.value);
}

/**
 * Whether a message box holds nothing worth a frame. An empty or whitespace-only frame is almost
 * always a stray Enter, and on /ws/json it could only earn `Invalid JSON`.
 */
function isBlank(text) {
  return text.trim() === '';
}

/** Shows the fields the selected endpoint uses, and the URL it will connect to. */
function refreshForm() {
  const endpoint = selectedEndpoint();
  if (ui.endpoint.value !== paramEndpoint) {
    paramValues.set(paramEndpoint, ui.param.value);
    paramEndpoint = ui.endpoint.value;
    ui.param.value = paramValues.get(paramEndpoint) ?? endpoint.example ?? '';
  }
  ui.paramField.hidden = !endpoint.param;
  if (endpoint.param) ui.paramLabel.textContent = endpoint.param;
  ui.templates.hidden = ui.endpoint.value !== 'json';
  ui.urlPreview.textContent = socketUrl({ redact: true });
}

function showClose(code, reason) {
  ui.closeCode.textContent = String(code);
  ui.closeReason.textContent = reason || '(none)';
  ui.closeInfo.hidden = false;
}

function connect() {
  const endpoint = selectedEndpoint();
  if (endpoint.param && ui.param.value.trim() === '') {
    setStatus('error', `${endpoint.param} is required`);
    ui.param.focus();
    return;
  }
  const url = socketUrl({ redact: false });
  const shown = socketUrl({ redact: true });
  if (ui.endpoint.value === 'json') {
    connectClient(shown);
    return;
  }
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    setStatus('error', `Cannot connect: ${error.message}`);
    return;
  }
  socket = ws;
  ui.closeInfo.hidden = true;
  setStatus('connecting', `Connecting to ${shown}`);
  log('event', `Connecting to ${shown}`);
  refreshControls();

  ws.addEventListener('open', () => {
    setStatus('open', `Connected to ${shown}`);
    log('event', 'Connected');
    refreshControls();
    ui.message.focus();
  });
  ws.addEventListener('message', (event) => {
    // Every frame the server sends is text; anything else is shown, not decoded.
    log('in', typeof event.data === 'string' ? event.data : '[binary frame]');
  });
  ws.addEventListener('error', () => {
    // Browsers hide why (a refused upgrade, a reset): the close event that follows has 1006.
    log('error', 'The connection failed');
  });
  ws.addEventListener('close', (event) => {
    const reason = event.reason ? `: ${event.reason}` : '';
    log('event', `Closed with ${event.code}${reason}`);
    if (socket !== ws) return;
    socket = null;
    showClose(event.code, event.reason);
    setStatus('closed', `Closed with ${event.code}${reason}`);
    refreshControls();
  });
}

/** The offset of a `message` frame, when it is one that carries it. */
function offsetOf(text) {
  if (!text.startsWith('{"type":"message"')) return undefined;
  try {
    return JSON.parse(text).data?.offset;
  } catch {
    return undefined;
  }
}

/** Shows each subscribed channel with its epoch and the last offset received. */
function renderChannels() {
  const rows = [...subscriptions.values()].map((subscription) => {
    const row = document.createElement('li');
    row.dataset.testid = 'channel';
    row.dataset.channel = subscription.channel;
    const offset = subscription.offset ?? '—';
    row.textContent = `${subscription.channel}: offset ${offset}`;
    if (subscription.epoch) row.title = `epoch ${subscription.epoch}`;
    return row;
  });
  ui.channels.replaceChildren(...rows);
  ui.reconnects.textContent = String(reconnects);
}

/** A /ws/json session on the client: every frame is logged as it goes out or comes in. */
function connectClient(shown) {
  const base = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/json`;
  const session = new SwitchboardClient(base, {
    token: ui.token.value.trim() || undefined,
    logger: (direction, text) =>
      log(direction, text, direction === 'in' ? offsetOf(text) : undefined),
  });
  client = session;
  reconnects = 0;
  subscriptions.clear();
  renderChannels();
  ui.closeInfo.hidden = true;
  let lastClose = '';
  session.on('state', (state) => {
    if (client !== session) return;
    if (state === 'reconnecting') reconnects++;
    if (state === 'open') {
      log('event', 'Connected');
      setStatus('open', `Connected to ${shown}`);
      ui.message.focus();
    } else if (state === 'closed') {
      client = null;
      setStatus('closed', lastClose ? `Closed with ${lastClose}` : 'Closed');
    } else setStatus(state, `${CLIENT_STATES[state]} to ${shown}`);
    renderChannels();
    refreshControls();
  });
  session.on('disconnect', ({ code, reason, willRetry }) => {
    lastClose = `${code}${reason ? `: ${reason}` : ''}`;
    log('event', `Closed with ${lastClose}${willRetry ? '; reconnecting' : ''}`);
    showClose(code, reason);
  });
  session.on('gap', ({ channel, reason }) =>
    log('error', `Publications of ${channel} were lost (${reason}): refetch its state`),
  );
  setStatus('connecting', `Connecting to ${shown}`);
  log('event', `Connecting to ${shown}`);
  refreshControls();
}

/**
 * Sends a hand-written /ws/json frame: the requests the client knows go through it (it numbers
 * them and keeps the subscriptions), anything else goes out as typed.
 */
function sendWithClient(text) {
  let request;
  try {
    request = JSON.parse(text);
  } catch {
    request = undefined;
  }
  const type = request?.type;
  const payload = request?.payload ?? {};
  if (!CLIENT_REQUESTS.has(type) || typeof payload !== 'object') {
    client.sendFrame(text);
    return;
  }
  const failed = (error) => {
    // The server's own errors are in the log already, as the frames that carried them.
    if (error.code !== 'server') log('error', `${type}: ${error.message}`);
  };
  const { channel } = payload;
  if (type === 'ping') client.ping().catch(failed);
  else if (type === 'publish') client.publish(channel, payload.message).catch(failed);
  else if (type === 'refresh') client.refresh(payload.token).catch(failed);
  else if (type === 'unsubscribe') {
    const subscription = subscriptions.get(channel);
    subscriptions.delete(channel);
    renderChannels();
    (subscription ? subscription.unsubscribe() : client.request('unsubscribe', { channel })).catch(
      failed,
    );
  } else if (subscriptions.has(channel)) log('event', `Already subscribed to ${channel}`);
  else {
    client
      .subscribe(channel, renderChannels)
      .then((subscription) => {
        subscriptions.set(channel, subscription);
        renderChannels();
      })
      .catch(failed);
  }
}

function disconnect() {
  if (client) {
    setStatus('closing', 'Closing');
    client.close();
    return;
  }
  if (!socket) return;
  setStatus('closing', 'Closing');
  socket.close(1000, 'Closed from the console');
}

function send() {
  const text = ui.message.value;
  if (isBlank(text)) return;
  if (client) {
    if (client.state !== 'open') return;
    sendWithClient(text);
  } else {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(text);
    log('out', text);
  }
  ui.message.value = '';
  refreshControls();
  ui.message.focus();
}

/** A /ws/json request envelope with the next request id. */
function template(type) {
  const channel = ui.jsonChannel.value.trim();
  const payloads = {
    ping: undefined,
    subscribe: { channel },
    unsubscribe: { channel },
    publish: { channel, message: 'hello' },
    refresh: { token: ui.token.value.trim() },
  };
  return JSON.stringify({ type, payload: payloads[type], id: nextRequestId++ });
}

/** Asks the server for a development token (POST /auth/dev-token) and fills the token field. */
async function fetchDevToken() {
  const sub =
    ui.tokenSub.value.trim() ||
    (ui.endpoint.value === 'chat' ? ui.param.value.trim() : '') ||
    'console';
  ui.devToken.disabled = true;
  try {
    const response = await fetch('/auth/dev-token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ sub }),
    });
    if (response.status === 404) {
      log('error', 'This server issues no development tokens (NODE_ENV=production)');
      return;
    }
    const body = await response.json();
    if (!response.ok) {
      const problems = Array.isArray(body.message) ? body.message.join('; ') : body.message;
      log('error', `No development token: ${problems ?? response.statusText}`);
      return;
    }
    ui.token.value = body.token;
    refreshForm();
    log('event', `Development token for "${sub}", valid for ${body.expiresIn} s`);
  } catch (error) {
    log('error', `No development token: ${error.message}`);
  } finally {
    ui.devToken.disabled = false;
  }
}

ui.connectForm.addEventListener('submit', (event) => {
  event.preventDefault();
  connect();
});
ui.disconnect.addEventListener('click', disconnect);
ui.sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.sendForm.requestSubmit();
  }
});
ui.templates.addEventListener('click', (event) => {
  const type = event.target instanceof HTMLElement ? event.target.dataset.template : undefined;
  if (!type) return;
  ui.message.value = template(type);
  refreshControls();
  ui.message.focus();
});
ui.message.addEventListener('input', refreshControls);
ui.devToken.addEventListener('click', () => void fetchDevToken());
ui.clearLog.addEventListener('click', () => ui.log.replaceChildren());
for (const input of [ui.endpoint, ui.param, ui.token]) {
  input.addEventListener('input', refreshForm);
}

refreshForm();
refreshControls();
