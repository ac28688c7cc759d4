// ciis-relay through both front ends with their shipped configs (SPEC §11
// "Routing"): lighttpd + lighttpd/ciis.conf (mod_proxy with the upgrade)
// and Apache + apache-conf/ciis-proxy-fcgi.conf (mod_proxy_http,
// upgrade=websocket), each running every case of lib/relay-cases.mjs with
// socket.io-client 4.8 and the ws package, the REST changes going through
// the same front end.  Then what only a proxy shows: the routes, clients
// outliving the front ends' idle timeouts on the relay's pings, and a
// relay restart seen through them.
//
// A private stack (lib/sse.mjs: MariaDB, lighttpd with its ciis-api,
// Apache with a second ciis-api) whose front ends close idle proxied
// connections after IDLE seconds (CIIS_TEST_PROXY_IDLE: lighttpd's
// server.max-read-idle, Apache's Timeout and ProxyTimeout) instead of
// 60-120, and a relay of its own on the port both send the relay routes
// to, pinging every PING_MS.
import { createConnection } from 'node:net';
import assert from 'node:assert/strict';
import { sseStack, feApi } from './lib/sse.mjs';
import { need } from './lib/npm.mjs';
import {
  relayBin, startRelay, relayFront, relayCases, waitFor, sleep, ack, issueEvents,
} from './lib/relay-cases.mjs';

const { io } = need('socket.io-client');
relayBin();
const IDLE = 8;			// seconds: the front ends' idle timeout here
const PING_MS = 2500;		// relay.ping_interval_ms: under half of IDLE
const X = await sseStack({ env: { CIIS_TEST_PROXY_IDLE: String(IDLE) } });
const { S, fronts } = X;
const { check, done, env } = S;

const R = await startRelay({
  conf: env.CIIS_CONF, port: Number(env.RELAY_PORT),
  env: { CIIS_RELAY_PING_INTERVAL_MS: String(PING_MS), CIIS_RELAY_PING_TIMEOUT_MS: '5000' },
});
process.on('exit', (code) => { if (code || process.exitCode) console.log(R.tail()); });
const F = fronts.map((fe) => relayFront({
  name: fe.name, url: fe.base, S,
  rest: (method, path, opts) => feApi(fe.base, method, path, opts),
}));

await check('the routes: /socket.io/, /ws and /health/websocket reach the relay, /api/ and /health ciis-api', async () => {
  const direct = await (await fetch(`${R.url}/health/websocket`)).json();
  for (const fe of fronts) {
    const h = await feApi(fe.base, 'GET', '/health/websocket');
    assert.equal(h.status, 200, `${fe.name} /health/websocket: ${h.status} ${h.text}`);
    assert.deepEqual(Object.keys(h.json || {}), Object.keys(direct), `${fe.name}: the relay's answer`);
    assert.equal(h.json.service, 'websocket', fe.name);
    const api = await feApi(fe.base, 'GET', '/health');
    assert.equal(api.status, 200, `${fe.name} /health: ${api.status} ${api.text}`);
    assert.notEqual(api.json?.service, 'websocket', `${fe.name} /health is ciis-api's`);
    const issues = await feApi(fe.base, 'GET', '/api/issues');
    assert.equal(issues.status, 401, `${fe.name} /api/issues without a token: ciis-api's 401`);
    const hs = await feApi(fe.base, 'GET', '/socket.io/?EIO=4&transport=polling');
    assert.equal(hs.status, 200, `${fe.name} Engine.IO handshake: ${hs.status} ${hs.text}`);
    assert.match(hs.text, /^0\{"sid":"[^"]+","upgrades":\["websocket"\],"pingInterval":2500,/, fe.name);
    const ws = await feApi(fe.base, 'GET', '/ws');
    assert.equal(ws.status, 400, `${fe.name} GET /ws without the upgrade: the relay's 400, got ${ws.status}`);
    for (const p of ['/wsx', '/ws/x', '/socket.iox/', '/health/websocketx']) {
      const r = await feApi(fe.base, 'GET', p);
      assert.equal(r.status, 404, `${fe.name} ${p} is neither's: ${r.status} ${r.text.slice(0, 80)}`);
    }
  }
});

for (const f of F) {
  await relayCases(f, { check });
  f.closeAll();
}

// Backpressure through the proxies: lighttpd's relay route streams
// (server.stream-response-body = 2) and Apache's tunnel pumps as the client
// reads, so a /ws client that stops reading fills the kernel's buffers and
// the front end's, then the relay's send queue (relay.send_queue_bytes,
// 1 MiB), and the relay names it slow_consumer and closes it, while a
// client of the same front end gets every event of its room on time.
// It is the send queue that closes it, not the ping timeout: the client
// keeps writing.
await check('a /ws client that never reads, through each front end: disconnected as slow_consumer; the others get every event on time', async () => {
  const slowLines = () => (R.log().match(/slow_consumer/g) || []).length;
  for (const f of F) {
    const { campus, b } = await f.place(1);
    const healthy = await f.connect(f.tok('healthy'), { transports: ['websocket'] });
    await ack(healthy, 'subscribe:campus', { campusId: campus.id });
    const user = f.user('never-reads');
    const w = await f.wsOpen(`?token=${f.tok('never-reads', { user })}`);
    w.send(JSON.stringify({ event: 'subscribe:organization', data: { organizationId: env.ORG_A }, ackId: 1 }));
    await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 1));
    w._socket.pause();
    // It still writes: a ping of its own every 500 ms is all the relay hears
    // from it, so the relay's ping timeout (no frame from the client for a
    // ping interval) cannot close it before its send queue fills.
    const alive = setInterval(() => { if (w.readyState === 1) w.ping(); }, 500);
    const before = slowLines();
    const ids = [];
    const late = [];
    try {
      // notifications for the user who does not read, 16 x 64 KiB at a
      // time, and between them an issue for the room of the one who does
      for (let i = 0; i < 80 && slowLines() === before; i++) {
        S.appendNotification(user, env.ORG_A, `filler ${i}`, 64 << 10, 16);
        const issue = await f.mkIssue(b.id);
        const t0 = Date.now();
        ids.push(String(issue.id));
        await waitFor(`${f.name}: issue ${ids.length} on the healthy socket`,
          () => issueEvents(healthy).some((e) => String(e.args[0].issue.id) === ids.at(-1)), 10000);
        if (Date.now() - t0 > 3000) late.push(`${ids.length}: ${Date.now() - t0} ms`);
        await sleep(50);
      }
      await waitFor(`${f.name}: slow_consumer in the relay's log`, () => slowLines() > before, 10000);
    } finally {
      clearInterval(alive);
    }
    console.log(`# ${f.name}: slow_consumer after ${ids.length} MiB not read`);
    assert.deepEqual(issueEvents(healthy).map((e) => String(e.args[0].issue.id)), ids, `${f.name}: in order, each once`);
    assert.deepEqual(late, [], `${f.name}: deliveries to the healthy socket that took over 3 s`);
    w._socket.resume();
    const { code } = await w.closed;
    assert.ok(code === 1008 || code === 1006, `${f.name}: close ${code}`);
    assert.equal(healthy.connected, true, `${f.name}: the healthy socket stays`);
    healthy.close();
  }
});

// Nothing but the relay's pings (and the clients' answers) for 3 x IDLE
// seconds, through both front ends at once.
await check(`idle for ${3 * IDLE} s (3 x the front ends' idle timeout): Socket.IO over both transports stays up`, async () => {
  const held = await Promise.all(F.map(async (f) => {
    const ws = await f.connect(f.tok('idle-ws'), { transports: ['websocket'] });
    const poll = await f.connect(f.tok('idle-poll'), { transports: ['polling'] });
    const up = await f.connect(f.tok('idle-up'));
    await waitFor('the upgrade', () => up.io.engine.transport.name === 'websocket', 10000);
    const gone = [];
    for (const [s, what] of [[ws, 'websocket'], [poll, 'polling'], [up, 'upgraded']]) {
      await ack(s, 'subscribe:organization', { organizationId: env.ORG_A });
      s.on('disconnect', (why) => gone.push(`${f.name} ${what}: ${why}`));
    }
    return { f, socks: [ws, poll, up], gone };
  }));
  await sleep(3 * IDLE * 1000);
  for (const { f, socks, gone } of held) {
    assert.deepEqual(gone, [], `${f.name}: disconnected`);
    for (const s of socks) {
      assert.equal(s.connected, true, `${f.name}: still connected`);
      assert.equal((await ack(s, 'subscribe:organization', { organizationId: env.ORG_A })).ok, true,
        `${f.name}: still answers`);
      s.close();
    }
  }
});

// /ws has no pings of its own: the relay sends WebSocket ping frames every
// relay.ping_interval_ms, which is all that keeps a client that only
// listens from each front end's idle timeout (lighttpd counts only the
// client's bytes: the ws package's automatic pongs).
await check(`idle for ${3 * IDLE} s: a /ws client that only listens stays up on the relay's ping frames`, async () => {
  const ws = await Promise.all(F.map(async (f) => {
    const w = await f.wsOpen(`?token=${f.tok('idle-wsplain')}`);
    w.send(JSON.stringify({ event: 'subscribe:organization', data: { organizationId: env.ORG_A }, ackId: 1 }));
    await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 1));
    let pings = 0;
    w.on('ping', () => { pings++; });
    const t0 = Date.now();
    let closedAt = null;
    w.closed.then(({ code }) => { closedAt = `close ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`; });
    return { f, w, pings: () => pings, closed: () => closedAt };
  }));
  await sleep(3 * IDLE * 1000);
  const bad = ws.filter((x) => x.closed()).map((x) => `${x.f.name}: ${x.closed()}, ${x.pings()} pings received`);
  for (const x of ws) x.w.close();
  assert.deepEqual(bad, [], 'idle /ws clients were cut');
  for (const x of ws) assert.ok(x.pings() >= 3 * IDLE * 1000 / PING_MS - 2, `${x.f.name}: ${x.pings()} pings`);
});

// That the timeout is really IDLE seconds on both: a half-sent request is
// dropped about then.
await check(`control: each front end drops a half-sent request after about ${IDLE} s`, async () => {
  await Promise.all(fronts.map(async (fe) => {
    const { port } = new URL(fe.base);
    const t0 = Date.now();
    const s = createConnection(Number(port), '127.0.0.1');
    s.on('connect', () => s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    s.on('data', () => {});
    s.on('error', () => {});
    await new Promise((r) => s.on('close', r));
    const secs = (Date.now() - t0) / 1000;
    assert.ok(secs > IDLE - 3 && secs < IDLE + 15, `${fe.name} dropped it after ${secs} s`);
  }));
});

// Clients that come back by themselves after the restart below, each in a
// campus room of its own: they must be recovered (SPEC §8) through both.
const recovering = [];
for (const f of F) {
  const { campus, b } = await f.place(1);
  const s = io(f.url, { auth: { token: f.tok('recover') }, forceNew: true,
    reconnectionDelay: 500, reconnectionDelayMax: 1000 });	// polling, then the upgrade
  s.events = [];
  s.onAny((name, ...args) => s.events.push({ name, args }));
  f.sockets.push(s);
  recovering.push({ f, s, b, missed: [] });
  await waitFor(`${f.name}: connected`, () => s.connected, 10000);
  assert.equal((await ack(s, 'subscribe:campus', { campusId: campus.id })).ok, true);
}
const createdIds = (s) => s.events.filter((e) => e.name === 'issue:created').map((e) => String(e.args[0].issue.id));

await check('SIGTERM of the relay: /ws clients get 1001 and Socket.IO clients a disconnect through both; then 503', async () => {
  for (const r of recovering) {
    const first = await r.f.mkIssue(r.b.id);
    await waitFor(`${r.f.name}: a first event`, () => createdIds(r.s).includes(String(first.id)));
    r.first = String(first.id);
  }
  await sleep(300);			// the rooms written
  const held = [];
  for (const f of F) {
    held.push({ f, w: await f.wsOpen(`?token=${f.tok('term-ws')}`),
      s: await f.connect(f.tok('term'), { transports: ['websocket'] }),
      p: await f.connect(f.tok('term-poll'), { transports: ['polling'] }) });
  }
  const gone = [];
  for (const h of held) for (const s of [h.s, h.p]) s.on('disconnect', () => gone.push(h.f.name));
  R.proc.kill('SIGTERM');
  for (const h of held) {
    const { code } = await Promise.race([h.w.closed, sleep(5000).then(() => ({ code: 'still open after 5 s' }))]);
    assert.equal(code, 1001, `${h.f.name}: /ws close code`);
  }
  await waitFor('four Socket.IO disconnects', () => gone.length === 4, 5000);
  assert.deepEqual(await R.exit, { code: 0, sig: null }, 'the relay exits 0');
  assert.equal(R.sanitizer(), false, 'no sanitizer report in the relay log');
  for (const fe of fronts) {
    const r = await feApi(fe.base, 'GET', '/health/websocket');
    assert.ok(r.status === 502 || r.status === 503, `${fe.name} with the relay gone: ${r.status}`);
    assert.equal((await feApi(fe.base, 'GET', '/health')).status, 200, `${fe.name}: ciis-api still answers`);
  }
  // missed while no relay runs
  for (const r of recovering) for (let i = 0; i < 3; i++) r.missed.push(String((await r.f.mkIssue(r.b.id)).id));
});

await check('the relay started again on its port: both front ends reach it, socket.io-client reconnects by itself', async () => {
  // Sockets with socket.io-client's own reconnection, while no relay runs.
  const back = F.map((f) => {
    const s = io(f.url, { auth: { token: f.tok('back') }, transports: ['websocket'], forceNew: true,
      reconnectionDelay: 500, reconnectionDelayMax: 1000 });
    f.sockets.push(s);
    return { f, s };
  });
  await sleep(1500);
  assert.deepEqual(back.filter((b) => b.s.connected).map((b) => b.f.name), [], 'connected to no relay');
  const R2 = await startRelay({ conf: env.CIIS_CONF, port: R.port,
    env: { CIIS_RELAY_PING_INTERVAL_MS: String(PING_MS), CIIS_RELAY_PING_TIMEOUT_MS: '5000' } });
  try {
    for (const fe of fronts) {
      await waitFor(`${fe.name}: 200 from /health/websocket`,
        async () => (await feApi(fe.base, 'GET', '/health/websocket')).status === 200, 10000);
    }
    for (const { f, s } of back) {
      await waitFor(`${f.name}: the reconnect`, () => s.connected, 15000);
      assert.equal((await ack(s, 'subscribe:organization', { organizationId: env.ORG_A })).ok, true, f.name);
    }
    // connected before the SIGTERM: recovered, with the 3 missed events, then live ones
    for (const r of recovering) {
      await waitFor(`${r.f.name}: the recovering client back`, () => r.s.connected, 15000);
      assert.equal(r.s.recovered, true, `${r.f.name}: socket.recovered`);
      await waitFor(`${r.f.name}: the missed events`, () => createdIds(r.s).length >= 4, 5000);
      const live = String((await r.f.mkIssue(r.b.id)).id);
      await waitFor(`${r.f.name}: a live one`, () => createdIds(r.s).includes(live));
      await sleep(200);
      assert.deepEqual(createdIds(r.s), [r.first, ...r.missed, live], `${r.f.name}: in order, each once`);
    }
  } finally {
    for (const f of F) f.closeAll();
    await R2.stop();
  }
  assert.equal(R2.sanitizer(), false, 'no sanitizer report in the second relay log');
});

for (const f of F) f.closeAll();
done();
process.exit();
