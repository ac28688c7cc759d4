// node-relay.mjs: the reference point of bench/run-relay.sh — a socket.io 4.8
// server with default options doing ciis-relay's job for one benchmark:
// CONNECT with auth.token (an HS256 signature check with --secret, else any
// non-empty token), `subscribe:campus {campusId}` → join `campus:{id}` and ack
// {ok:true, room, replayed:0}, and a broadcast to a room per trigger:
//   POST /emit?room=campus:7[&event=issue:created]  body: the event's JSON
// is answered 200 {"eventId":N,"receivers":M} first, then the payload (with
// `eventId` and `timestamp` set here, as ciis-api sets them at the commit) is
// emitted to the room with the id as a string last argument, as ciis-relay
// sends its offset.  GET /health → {"connectedClients":N}.
//
//   node bench/node-relay.mjs --listen 127.0.0.1:PORT [--secret S]
//   node bench/node-relay.mjs --check     (exit 0 when socket.io is found)
// socket.io is found through CIIS_NODE_MODULES or the tree's node_modules
// (tests/integration/lib/npm.mjs's way); exit 77 when it is missing (99
// under CI).  Prints "node-relay: listening on HOST:PORT"; SIGTERM closes
// every client and exits.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dirs = [process.env.CIIS_NODE_MODULES, join(here, '..', 'node_modules'),
  process.env.top_srcdir && join(process.env.top_srcdir, 'node_modules')]
  .filter((d) => d && existsSync(d));

function need(name) {
  for (const d of dirs) {
    try {
      return createRequire(join(d, 'noop.js'))(name);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  console.error(`node-relay: npm package ${name} is missing (run npm ci at the top of the tree)`);
  process.exit(process.env.CI ? 99 : 77);
}

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const [host, portText] = arg('--listen', '127.0.0.1:0').split(/:(?=[^:]*$)/);
const secret = arg('--secret', null);

const { Server } = need('socket.io');
if (args.includes('--check')) process.exit(0);	// socket.io is there: all run-relay.sh asks

// HS256 only, exp checked: about what ciis-relay does at CONNECT.
function tokenOk(t) {
  if (typeof t !== 'string' || t.length === 0) return false;
  if (secret === null) return true;
  const parts = t.split('.');
  if (parts.length !== 3) return false;
  const want = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return false;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    return !(typeof claims.exp === 'number' && claims.exp * 1000 < Date.now());
  } catch {
    return false;
  }
}

let eventId = 0;
let io;

function emit(req, res, url) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      res.writeHead(400).end('bad json');
      return;
    }
    const room = url.searchParams.get('room');
    const event = url.searchParams.get('event') || 'issue:created';
    const id = ++eventId;
    payload.eventId = id;
    payload.timestamp = new Date().toISOString();
    const members = io.sockets.adapter.rooms.get(room);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ eventId: id, receivers: members ? members.size : 0 }));
    io.to(room).emit(event, payload, String(id));
  });
}

const http = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/emit') emit(req, res, url);
  else if (req.method === 'GET' && url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', connectedClients: io.engine.clientsCount }));
  } else res.writeHead(404).end('Not Found');
});

io = new Server(http);	// defaults: both transports, pingInterval 25000, no compression
io.use((socket, next) => (tokenOk(socket.handshake.auth && socket.handshake.auth.token)
  ? next() : next(new Error('unauthorized'))));
io.on('connection', (socket) => {
  socket.on('subscribe:campus', (data, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    const id = data && data.campusId;
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
      reply({ ok: false, error: 'bad_request' });
      return;
    }
    const room = `campus:${id}`;
    socket.join(room);
    reply({ ok: true, room, replayed: 0 });
  });
});

http.listen(Number(portText), host, () => {
  const a = http.address();
  console.log(`node-relay: listening on ${a.address}:${a.port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    io.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
