// ciis-relay (SPEC §8) against the stack: socket.io-client 4.8 over both
// transports, JWT at CONNECT, rooms and fan-out of REST changes, lastEventId
// replay (from the ring and from the table), the per-user cap, the rate
// limit, token expiry and renewal, bad input, /ws with the ws package, and
// SIGTERM.  The relay is this test's own, on a free port, with the stack's
// ciis.conf (and a low relay.events_per_minute through the environment).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import {
  env, api, check, done, need as needOk, assert, assertStatus, T, jwt,
  mkCampus, mkBuilding, mkIssue, lastEventId, eventsSince,
} from './lib/stack.mjs';
import { need } from './lib/npm.mjs';

const { io } = need('socket.io-client');
const WebSocket = need('ws');

const bin = join(process.env.top_builddir, 'src/relay/ciis-relay');
if (!existsSync(bin)) {
  console.log(`${process.env.CI ? 'FAIL' : 'SKIP'}: ${bin} is not built`);
  process.exit(process.env.CI ? 99 : 77);
}
const LIMIT = 20;		// relay.events_per_minute for this relay
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// ---- the relay ----------------------------------------------------------------

let relay, relayLog = '', relayExit;
const port = await freePort();
const URL_ = `http://127.0.0.1:${port}`;

async function startRelay() {
  relay = spawn(bin, ['-c', env.CIIS_CONF, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, CIIS_RELAY_EVENTS_PER_MINUTE: String(LIMIT) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  relay.stdout.on('data', (d) => { relayLog += d; });
  relay.stderr.on('data', (d) => { relayLog += d; });
  relayExit = new Promise((r) => relay.on('exit', (code, sig) => r({ code, sig })));
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${URL_}/health/websocket`);
      if (r.status === 200) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`ciis-relay did not start: ${relayLog}`);
}
process.on('exit', () => { if (relay && relay.exitCode === null) relay.kill('SIGKILL'); });

// ---- helpers ----------------------------------------------------------------------

// A viewer token of a user of its own: the per-user cap stays out of the way.
let users = 0;
const tok = (role = 'viewer') => jwt({ userId: `u-relay-${++users}`, organizationId: env.ORG_A, role });

const sockets = [];
// A connected socket (with .events: every server event and its args), or a
// rejection carrying the connect_error.
function connect(token, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(URL_, { auth: token === undefined ? undefined : { token }, reconnection: false,
      forceNew: true, ...opts });
    s.events = [];
    s.onAny((name, ...args) => s.events.push({ name, args }));
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => { s.close(); reject(e); });
  });
}
const ack = (s, name, data) => s.timeout(5000).emitWithAck(name, data);

async function waitFor(what, fn, ms = 1000) {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}
const named = (s, name) => s.events.filter((e) => e.name === name);
const issueEvents = (s) => s.events.filter((e) => e.name.startsWith('issue:'));
// Issue events about one issue (an org room also gets other tests' issues).
const issueId = (e) => String(e.args[0].issue ? e.args[0].issue.id : e.args[0].issueId);
const about = (s, id) => issueEvents(s).filter((e) => issueId(e) === String(id));

async function connectError(token, opts) {
  try {
    const s = await connect(token, opts);
    s.close();
    return null;
  } catch (e) {
    return e;
  }
}

// A /ws client: .msgs (parsed), .closed → {code}.
function wsOpen(query = '', headers = {}) {
  return new Promise((resolve, reject) => {
    const w = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { headers });
    w.msgs = [];
    w.closed = new Promise((r) => w.on('close', (code) => r({ code })));
    w.on('message', (d) => { try { w.msgs.push(JSON.parse(String(d))); } catch { w.msgs.push({ raw: String(d) }); } });
    w.on('open', () => resolve(w));
    w.on('error', reject);
  });
}
const wsSend = (w, o) => w.send(typeof o === 'string' ? o : JSON.stringify(o));

// ---- fixtures -----------------------------------------------------------------------

const campus = await mkCampus();
const b1 = await mkBuilding(campus.id);
const other = await mkCampus();
const otherB = await mkBuilding(other.id);
const campusB = await mkCampus(undefined, T.bAdmin, env.ORG_B);
needOk(campus && b1 && other && otherB && campusB, 'campuses and buildings');
// Before the relay starts: a replay of these must come from the table.
const early = await mkCampus();
const earlyB = await mkBuilding(early.id);
const beforeEarly = lastEventId();
await mkIssue(earlyB.id);
await mkIssue(earlyB.id);

await startRelay();

// ---- connecting ------------------------------------------------------------------------

await check('socket.io-client, default options (polling, then upgrade): connects with auth:{token}', async () => {
  const s = await connect(T.viewer);
  await waitFor('the upgrade', () => s.io.engine.transport.name === 'websocket', 3000);
  s.close();
});

await check('socket.io-client, transports:[websocket]: connects with auth:{token}', async () => {
  const s = await connect(T.viewer, { transports: ['websocket'] });
  s.close();
});

await check('bad, missing and expired tokens → connect_error "unauthorized"', async () => {
  for (const t of ['garbage', undefined, T.expired, jwt({ userId: 'u1', organizationId: env.ORG_A, role: 'viewer' }, { secret: 'wrong' })]) {
    const e = await connectError(t, { transports: ['websocket'] });
    assert.ok(e, `token ${String(t).slice(0, 12)} accepted`);
    assert.equal(e.message, 'unauthorized');
  }
});

await check('?token= and Authorization: Bearer are accepted too', async () => {
  const a = await connect(undefined, { query: { token: T.viewer }, transports: ['websocket'] });
  a.close();
  const b = await connect(undefined, { extraHeaders: { authorization: `Bearer ${T.viewer}` }, transports: ['websocket'] });
  b.close();
});

// ---- rooms and fan-out ---------------------------------------------------------------------

let sCampus, sOther, sBoth, sBuilding, sHeat, sIssue, created;
await check('subscribe:campus / building / organization / heatmap → ack {ok:true, room, replayed:0} (both transports)', async () => {
  sCampus = await connect(tok(), { transports: ['websocket'] });
  sOther = await connect(tok());
  sBoth = await connect(tok('staff'), { transports: ['websocket'] });
  sBuilding = await connect(tok(), { transports: ['polling'] });	// events over long-polling
  sHeat = await connect(tok(), { transports: ['websocket'] });
  assert.deepEqual(await ack(sCampus, 'subscribe:campus', { campusId: campus.id }),
    { ok: true, room: `campus:${campus.id}`, replayed: 0 });
  assert.deepEqual(await ack(sOther, 'subscribe:campus', { campusId: other.id }),
    { ok: true, room: `campus:${other.id}`, replayed: 0 });
  assert.deepEqual(await ack(sBoth, 'subscribe:organization', { organizationId: env.ORG_A }),
    { ok: true, room: `org:${env.ORG_A}`, replayed: 0 });
  assert.equal((await ack(sBoth, 'subscribe:campus', { campusId: Number(campus.id) })).ok, true);
  assert.equal((await ack(sBuilding, 'subscribe:building', { buildingId: b1.id })).room, `building:${b1.id}`);
  assert.equal((await ack(sHeat, 'subscribe:heatmap', { organizationId: env.ORG_A })).room, `heatmap:${env.ORG_A}`);
});

await check('an issue created over REST arrives as issue:created within 1 s, with the payload and an offset', async () => {
  const t0 = Date.now();
  created = await mkIssue(b1.id);
  const ev = await waitFor('issue:created', () => named(sCampus, 'issue:created')[0], 1000);
  assert.ok(Date.now() - t0 < 1500);
  const [payload, offset] = ev.args;
  assert.equal(ev.args.length, 2);
  assert.deepEqual(payload.issue, created);
  assert.equal(typeof offset, 'string');
  assert.equal(offset, String(payload.eventId));
  const row = eventsSince(payload.eventId - 1, `id = ${payload.eventId}`)[0];
  assert.deepEqual(payload, row.payload, 'the stored payload as-is');
});

await check('subscribe:issue → ack', async () => {
  sIssue = await connect(tok(), { transports: ['websocket'] });
  assert.deepEqual(await ack(sIssue, 'subscribe:issue', { issueId: created.id }),
    { ok: true, room: `issue:${created.id}`, replayed: 0 });
});

await check('update, assign, resolve, delete arrive in the rooms of SPEC §6 only, each once', async () => {
  let r = await api('PATCH', `/api/issues/${created.id}`, { token: T.staff, body: { title: 'renamed', version: 1 } });
  assertStatus(r, 200);
  r = await api('POST', `/api/issues/${created.id}/assign`, { token: T.staff, body: { assigneeId: 'u-fixer' } });
  assertStatus(r, 200);
  r = await api('POST', `/api/issues/${created.id}/resolve`, { token: T.staff, body: { resolution: 'fixed' } });
  assertStatus(r, 200);
  r = await api('DELETE', `/api/issues/${created.id}`, { token: T.admin });
  assert.ok(r.status === 204 || r.status === 200, `delete: ${r.status}`);
  const want = ['issue:created', 'issue:updated', 'issue:assigned', 'issue:resolved', 'issue:deleted'];
  for (const [s, what] of [[sCampus, 'campus'], [sBoth, 'org+campus'], [sBuilding, 'building']]) {
    await waitFor(`issue:deleted (${what})`, () => about(s, created.id).length === 5, 2000);
    await sleep(100);
    assert.deepEqual(about(s, created.id).map((e) => e.name), want, `${what} socket`);
  }
  await waitFor('issue:deleted (issue room)', () => named(sIssue, 'issue:deleted').length, 2000);
  assert.deepEqual(issueEvents(sIssue).map((e) => e.name), want.slice(1), 'issue socket');
  const del = named(sCampus, 'issue:deleted')[0].args[0];
  assert.equal(del.issueId, created.id);
  const offsets = about(sBoth, created.id).map((e) => Number(e.args[1]));
  for (let k = 1; k < offsets.length; k++) assert.ok(offsets[k] > offsets[k - 1], 'offsets increase');
  await sleep(200);
  assert.deepEqual(sOther.events, [], 'another campus gets nothing');
  assert.ok(named(sHeat, 'heatmap:updated').length >= 1, 'heatmap:updated reaches heatmap:{org}');
  assert.deepEqual(issueEvents(sHeat), [], 'no issue events in the heatmap room');
  assert.deepEqual(named(sCampus, 'heatmap:updated'), [], 'no heatmap:updated in a campus room');
});

await check('unsubscribe:campus → ack, and no more events', async () => {
  const a = await ack(sOther, 'unsubscribe:campus', { campusId: other.id });
  assert.equal(a.ok, true);
  await mkIssue(otherB.id);
  await sleep(400);
  assert.deepEqual(sOther.events, []);
});

await check('another organization, bad ids → {ok:false, error:"forbidden"}', async () => {
  const f = { ok: false, error: 'forbidden' };
  assert.deepEqual(await ack(sCampus, 'subscribe:campus', { campusId: campusB.id }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:campus', { campusId: 'abc' }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:campus', { campusId: '999999999' }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:campus', {}), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:building', { buildingId: '-1' }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:organization', { organizationId: env.ORG_B }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:heatmap', { organizationId: env.ORG_B }), f);
  assert.deepEqual(await ack(sCampus, 'subscribe:issue', { issueId: '1x' }), f);
});

// ---- replay -----------------------------------------------------------------------------------

await check('lastEventId replays exactly the missed events of the room, in order, before live ones (ring)', async () => {
  const c = await mkCampus();
  const b = await mkBuilding(c.id);
  const before = lastEventId();
  await mkIssue(b.id);
  await mkIssue(b.id);
  await mkIssue(b.id);
  await mkIssue(otherB.id);		// not this room
  const want = eventsSince(before, `campus_id = ${c.id} AND type LIKE 'issue:%'`).map((e) => e.id);
  assert.equal(want.length, 3);
  const s = await connect(tok(), { transports: ['websocket'] });
  await sleep(300);			// the tailer has them all
  const a = await ack(s, 'subscribe:campus', { campusId: c.id, lastEventId: before });
  assert.deepEqual(a, { ok: true, room: `campus:${c.id}`, replayed: 3 });
  assert.deepEqual(issueEvents(s).map((e) => Number(e.args[1])), want);
  await mkIssue(b.id);
  await waitFor('the live one', () => issueEvents(s).length === 4);
  assert.ok(Number(issueEvents(s)[3].args[1]) > want[2]);
  s.close();
});

await check('lastEventId older than the relay: replayed from the table', async () => {
  const want = eventsSince(beforeEarly, `campus_id = ${early.id} AND type LIKE 'issue:%'`).map((e) => e.id);
  const s = await connect(tok(), { transports: ['websocket'] });
  const a = await ack(s, 'subscribe:campus', { campusId: early.id, lastEventId: String(beforeEarly) });
  assert.deepEqual(a, { ok: true, room: `campus:${early.id}`, replayed: want.length });
  assert.deepEqual(issueEvents(s).map((e) => Number(e.args[1])), want);
  await mkIssue(earlyB.id);
  await waitFor('the live one', () => issueEvents(s).length === want.length + 1);
  s.close();
});

await check('a replay skips what the socket already had through another room', async () => {
  const s = await connect(tok(), { transports: ['websocket'] });
  await ack(s, 'subscribe:organization', { organizationId: env.ORG_A });
  const before = lastEventId();
  const i = await mkIssue(b1.id);
  await waitFor('issue:created', () => about(s, i.id).length === 1);
  const a = await ack(s, 'subscribe:campus', { campusId: campus.id, lastEventId: before });
  assert.equal(a.replayed, 0);
  await sleep(200);
  assert.equal(about(s, i.id).length, 1);
  s.close();
});

await check('presence: the first socket of a user → user:online, the last one gone → user:offline, to org:{org}', async () => {
  const watcher = await connect(tok(), { transports: ['websocket'] });
  await ack(watcher, 'subscribe:organization', { organizationId: env.ORG_A });
  const who = jwt({ userId: 'u-presence', organizationId: env.ORG_A, role: 'viewer', name: 'Pat' });
  const a = await connect(who, { transports: ['websocket'] });
  const b = await connect(who, { transports: ['websocket'] });
  await waitFor('user:online', () => named(watcher, 'user:online').length);
  await sleep(200);
  const on = named(watcher, 'user:online');
  assert.equal(on.length, 1, 'once per user');
  assert.equal(on[0].args.length, 1, 'no offset');
  assert.equal(on[0].args[0].userId, 'u-presence');
  assert.equal(on[0].args[0].name, 'Pat');
  assert.equal(on[0].args[0].status, 'online');
  a.close();
  await sleep(300);
  assert.deepEqual(named(watcher, 'user:offline'), [], 'not while a socket is left');
  b.close();
  const off = await waitFor('user:offline', () => named(watcher, 'user:offline')[0]);
  assert.equal(off.args[0].userId, 'u-presence');
  assert.equal(off.args[0].status, 'offline');
  watcher.close();
});

// ---- limits -------------------------------------------------------------------------------------

await check('the 6th socket of a user → connect_error "too_many_connections"', async () => {
  const tok = jwt({ userId: 'u-cap', organizationId: env.ORG_A, role: 'viewer' });
  const mine = [];
  for (let i = 0; i < 5; i++) mine.push(await connect(tok, { transports: ['websocket'] }));
  const e = await connectError(tok, { transports: ['websocket'] });
  assert.ok(e, '6th accepted');
  assert.equal(e.message, 'too_many_connections');
  const w = await wsOpen(`?token=${tok}`);
  assert.equal((await w.closed).code, 4429, '/ws over the cap');
  mine.pop().close();
  await sleep(200);
  const again = await connect(tok, { transports: ['websocket'] });
  again.close();
  for (const s of mine) s.close();
});

await check(`past relay.events_per_minute (${LIMIT}): error rate_limited per event, closed at twice it`, async () => {
  const s = await connect(tok(), { transports: ['websocket'] });
  let gone = false;
  s.on('disconnect', () => { gone = true; });
  for (let i = 0; i < LIMIT + 3; i++) s.emit('subscribe:organization', { organizationId: env.ORG_A });
  await waitFor('rate_limited errors', () => named(s, 'error').length === 3);
  assert.deepEqual(named(s, 'error')[0].args[0], { code: 'rate_limited' });
  assert.equal(gone, false);
  for (let i = 0; i < LIMIT; i++) s.emit('subscribe:organization', { organizationId: env.ORG_A });
  await waitFor('the close', () => gone);
});

await check('token exp: token:expired, then the Engine.IO session closes (not a 41)', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tok = jwt({ userId: 'u-exp', organizationId: env.ORG_A, role: 'viewer', exp: now + 2 });
  const s = await connect(tok, { transports: ['websocket'] });
  let reason;
  s.on('disconnect', (r) => { reason = r; });
  await waitFor('token:expired', () => named(s, 'token:expired').length, 4000);
  await waitFor('the disconnect', () => reason, 2000);
  assert.equal(reason, 'transport close');
});

await check('auth:refresh {token} → {ok:true, exp}; another user → forbidden', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tok = jwt({ userId: 'u-ref', organizationId: env.ORG_A, role: 'viewer', exp: now + 2 });
  const s = await connect(tok, { transports: ['websocket'] });
  const fresh = jwt({ userId: 'u-ref', organizationId: env.ORG_A, role: 'viewer', exp: now + 600 });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: fresh }), { ok: true, exp: now + 600 });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: T.viewer }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: 'junk' }), { ok: false, error: 'forbidden' });
  await sleep(2500);
  assert.equal(s.connected, true, 'renewed: still connected past the old exp');
  assert.deepEqual(named(s, 'token:expired'), []);
  s.close();
});

// ---- bad input ------------------------------------------------------------------------------------

await check('unknown events and bad data are answered; garbage closes only its own session', async () => {
  const s = await connect(tok(), { transports: ['websocket'] });
  assert.deepEqual(await ack(s, 'no:such', { x: 1 }), { ok: false, error: 'unknown_event' });
  s.emit('no:such');
  await waitFor('error unknown_event', () => named(s, 'error').length);
  assert.deepEqual(named(s, 'error')[0].args[0], { code: 'unknown_event' });
  assert.deepEqual(await ack(s, 'subscribe:campus', 'a string'), { ok: false, error: 'forbidden' });
  assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: campus.id, lastEventId: 'x' }),
    { ok: false, error: 'bad_request' });
  // raw Engine.IO with garbage Socket.IO packets
  const raw = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  const closed = new Promise((r) => raw.on('close', (code) => r(code)));
  raw.on('message', (d) => {
    const m = String(d);
    if (m.startsWith('0')) raw.send(`40{"token":"${T.viewer}"}`);
    else if (m.startsWith('40')) { raw.send('42not json'); raw.send('4x'); }
  });
  await closed;
  const r = await fetch(`${URL_}/health/websocket`);
  assert.equal(r.status, 200);
  await mkIssue(b1.id);
  await waitFor('others still served', () => named(sCampus, 'issue:created').length === 3, 2000);
  s.close();
});

await check('GET /health/websocket → {status, service, connectedClients}', async () => {
  const r = await (await fetch(`${URL_}/health/websocket`)).json();
  assert.deepEqual(Object.keys(r), ['status', 'service', 'connectedClients']);
  assert.equal(r.status, 'ok');
  assert.equal(r.service, 'websocket');
  assert.ok(r.connectedClients >= 6, JSON.stringify(r));
});

// ---- /ws ------------------------------------------------------------------------------------------

const silent = await wsOpen();	// says nothing: closed after 5 s (checked below)
const silentT0 = Date.now();
let w;
await check('/ws: auth frame, subscribe with ackId, an event arrives', async () => {
  w = await wsOpen();
  wsSend(w, { event: 'auth', data: { token: T.viewer } });
  await waitFor('auth', () => w.msgs.length === 1);
  assert.deepEqual(w.msgs[0], { event: 'auth', data: { ok: true, userId: env.USER_VIEWER } });
  wsSend(w, { event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 7 });
  await waitFor('ack', () => w.msgs.length === 2);
  assert.deepEqual(w.msgs[1], { ackId: 7, data: { ok: true, room: `campus:${campus.id}`, replayed: 0 } });
  wsSend(w, { event: 'subscribe:campus', data: { campusId: campusB.id }, ackId: 8 });
  await waitFor('ack', () => w.msgs.length === 3);
  assert.deepEqual(w.msgs[2], { ackId: 8, data: { ok: false, error: 'forbidden' } });
  const i = await mkIssue(b1.id);
  await waitFor('issue:created', () => w.msgs.length === 4);
  assert.equal(w.msgs[3].event, 'issue:created');
  assert.deepEqual(w.msgs[3].data.issue, i);
  wsSend(w, 'not json');
  await waitFor('bad_request', () => w.msgs.length === 5);
  assert.deepEqual(w.msgs[4], { event: 'error', data: { code: 'bad_request' } });
});

await check('/ws: ?token= and Authorization work; a bad token → error unauthorized, close 4401', async () => {
  const a = await wsOpen(`?token=${T.viewer}`);
  wsSend(a, { event: 'subscribe:organization', data: { organizationId: env.ORG_A }, ackId: 1 });
  await waitFor('ack', () => a.msgs.length === 1);
  assert.equal(a.msgs[0].data.ok, true);
  a.close();
  const h = await wsOpen('', { authorization: `Bearer ${T.viewer}` });
  wsSend(h, { event: 'subscribe:organization', data: { organizationId: env.ORG_A }, ackId: 1 });
  await waitFor('ack', () => h.msgs.length === 1);
  h.close();
  const b = await wsOpen();
  wsSend(b, { event: 'auth', data: { token: 'bad' } });
  assert.equal((await b.closed).code, 4401);
  assert.deepEqual(b.msgs, [{ event: 'error', data: { code: 'unauthorized' } }]);
  const c = await wsOpen();
  wsSend(c, { event: 'subscribe:campus', data: { campusId: campus.id } });
  assert.equal((await c.closed).code, 4401, 'an event before auth');
});

await check('/ws: no auth frame within 5 s → error unauthorized, close 4401', async () => {
  const { code } = await silent.closed;
  assert.equal(code, 4401);
  assert.ok(Date.now() - silentT0 > 4000, `closed after ${Date.now() - silentT0} ms`);
  assert.deepEqual(silent.msgs, [{ event: 'error', data: { code: 'unauthorized' } }]);
});

// ---- SIGTERM ------------------------------------------------------------------------------------------

await check('SIGTERM: every client is closed properly and the relay exits 0', async () => {
  let gone = 0;
  for (const s of [sCampus, sBoth]) s.on('disconnect', () => { gone++; });
  relay.kill('SIGTERM');
  const code = (await w.closed).code;
  assert.equal(code, 1001, '/ws close code');
  await waitFor('socket.io disconnects', () => gone === 2, 2000);
  const ex = await relayExit;
  assert.deepEqual(ex, { code: 0, sig: null });
  assert.doesNotMatch(relayLog, /ERROR: AddressSanitizer|LeakSanitizer|runtime error/, relayLog);
});

for (const s of sockets) s.close();
if (process.exitCode) console.log(relayLog.split('\n').slice(-40).map((l) => `# ${l}`).join('\n'));
done();
