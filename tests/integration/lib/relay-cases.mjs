// The ciis-relay cases (SPEC §6, §8, §11) that run both straight at the
// relay (t-relay.mjs) and through each front end with its shipped config
// (t-relay-proxy.mjs), plus the relay process and the clients they use.
//
//   const R = await startRelay({ conf, port, env });   // R.url, R.log(), R.stop()
//   const f = relayFront({ name, url, rest, S, maxPayload });
//   await relayCases(f, { check });
//
// f.url is where /socket.io/, /ws and /health/websocket are asked for (the
// relay itself, or a front end); f.rest(method, path, {token, body}) is
// the REST API the changes go through (the stack's lighttpd, or the same
// front end); S is the stack.mjs module of the stack in use.  Every case
// makes its own places and users, so the per-user cap of one never
// touches another, and every wait has a deadline of a few seconds.
// Nothing here imports stack.mjs: it finds its stack when first imported,
// which the caller decides.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import { need } from './npm.mjs';

const { io } = need('socket.io-client');
const WebSocket = need('ws');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SAN = /ERROR: AddressSanitizer|LeakSanitizer|runtime error:/;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// waitFor(what, fn, ms): poll fn (sync or async) until it returns a truthy value.
export async function waitFor(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---- the relay -------------------------------------------------------------------

// The built ciis-relay, or exit 77 (99 under CI) when it is not built.
export function relayBin() {
  const bin = join(process.env.top_builddir, 'src/relay/ciis-relay');
  if (!existsSync(bin)) {
    console.log(`${process.env.CI ? 'FAIL' : 'SKIP'}: ${bin} is not built`);
    process.exit(process.env.CI ? 99 : 77);
  }
  return bin;
}

// startRelay({conf, port, env}): ciis-relay -c conf --listen 127.0.0.1:port
// (a free port when none is given), once /health/websocket answers 200.
// → {url, port, proc, exit: Promise<{code, sig}>, log(), sanitizer(), stop()}
export async function startRelay({ conf, port, env = {} }) {
  const bin = relayBin();
  port = port || await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const proc = spawn(bin, ['-c', conf, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const exit = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  process.on('exit', () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  const R = {
    url, port, proc, exit,
    log: () => log,
    tail: (n = 40) => log.split('\n').slice(-n).map((l) => `# ${l}`).join('\n'),
    sanitizer: () => SAN.test(log),
    stop: async (sig = 'SIGTERM') => { if (proc.exitCode === null) proc.kill(sig); return exit; },
  };
  for (let i = 0; i < 150; i++) {
    if (proc.exitCode !== null) break;
    try {
      const r = await fetch(`${url}/health/websocket`);
      if (r.status === 200) return R;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`ciis-relay did not start on ${url}: ${log}`);
}

// ---- a front: where the clients connect, and the REST API beside it --------------------

let seq = 0;
const tag = () => `${process.pid.toString(36)}${Date.now().toString(36)}${++seq}`;

export function relayFront({ name, url, rest, S, maxPayload = 65536 }) {
  const f = { name, url, rest, S, maxPayload, sockets: [], wss: [] };
  const { env } = S;

  // A token of a user of its own (the per-user cap stays out of the way).
  f.user = (what = 'u') => `u-relay-${name}-${what}-${tag()}`;
  f.tok = (what, { org = env.ORG_A, role = 'viewer', user, ...claims } = {}) =>
    S.jwt({ userId: user || f.user(what), organizationId: org, role, ...claims });

  // A connected socket with .events (every server event: {name, args}), or a
  // rejection with the connect_error.
  f.connect = (token, opts = {}) => new Promise((resolve, reject) => {
    const s = io(f.url, { auth: token === undefined ? undefined : { token }, reconnection: false,
      forceNew: true, ...opts });
    s.events = [];
    s.onAny((ev, ...args) => s.events.push({ name: ev, args }));
    f.sockets.push(s);
    const refused = (e) => { s.close(); reject(e); };	// the first CONNECT only
    s.once('connect_error', refused);
    s.once('connect', () => { s.off('connect_error', refused); resolve(s); });
  });
  f.connectError = async (token, opts) => {
    try {
      (await f.connect(token, opts)).close();
      return null;
    } catch (e) {
      return e;
    }
  };

  // A /ws client: .msgs (parsed; {raw} when not JSON), .closed → {code}.
  f.wsOpen = (query = '', headers = {}) => new Promise((resolve, reject) => {
    const w = new WebSocket(`${f.url.replace(/^http/, 'ws')}/ws${query}`, { headers, handshakeTimeout: 10000 });
    w.msgs = [];
    w.closed = new Promise((r) => w.on('close', (code) => r({ code })));
    w.on('message', (d) => {
      try { w.msgs.push(JSON.parse(String(d))); } catch { w.msgs.push({ raw: String(d) }); }
    });
    w.on('open', () => resolve(w));
    w.on('error', reject);
    f.wss.push(w);
  });
  f.closeAll = () => {
    for (const s of f.sockets) s.close();
    for (const w of f.wss) w.terminate();
    f.sockets.length = 0;
    f.wss.length = 0;
  };

  // REST fixtures through f.rest.
  const ok = (r, status, what) => {
    assert.equal(r.status, status, `${what}: expected ${status}, got ${r.status} ${String(r.text).slice(0, 300)}`);
    return r.json;
  };
  f.mkCampus = async (token = S.T.admin, org = env.ORG_A) =>
    ok(await rest('POST', `/api/organizations/${org}/campuses`, { token, body: { name: `relay campus ${tag()}` } }),
      201, 'create campus');
  f.mkBuilding = async (campusId, token = S.T.admin) =>
    ok(await rest('POST', `/api/campuses/${campusId}/buildings`, { token, body: { name: `relay bldg ${tag()}` } }),
      201, 'create building');
  f.mkIssue = async (buildingId, fields = {}) =>
    ok(await rest('POST', '/api/issues', { token: S.T.reporter,
      body: { title: `relay issue ${tag()}`, category: 'plumbing', buildingId, ...fields } }), 201, 'create issue');
  // A campus with n buildings.
  f.place = async (n = 1, token, org) => {
    const campus = await f.mkCampus(token, org);
    const buildings = [];
    for (let i = 0; i < n; i++) buildings.push(await f.mkBuilding(campus.id, token));
    return { campus, buildings, b: buildings[0] };
  };
  f.ok = ok;
  return f;
}

// ---- reading what arrived ------------------------------------------------------------------

export const ack = (s, ev, data) => s.timeout(5000).emitWithAck(ev, data);
export const named = (s, ev) => s.events.filter((e) => e.name === ev);
// user:online / user:offline / presence:*: ephemeral, to org:{org}
export const isPresence = (e) => /^(user|presence):/.test(e.name);
export const issueEvents = (s) => s.events.filter((e) => e.name.startsWith('issue:'));
const issueIdOf = (p) => String(p.issue ? p.issue.id : p.issueId);
// Issue events about one issue (a campus or org room also gets others').
export const about = (s, id) => issueEvents(s).filter((e) => issueIdOf(e.args[0]) === String(id));
// The same for a /ws client: its {event, data} messages.
export const wsAbout = (w, id) =>
  w.msgs.filter((m) => typeof m.event === 'string' && m.event.startsWith('issue:') && issueIdOf(m.data) === String(id));
const wsAck = (w, ackId) => w.msgs.find((m) => m.ackId === ackId);
const wsSend = (w, o) => w.send(typeof o === 'string' ? o : JSON.stringify(o));

// A raw Engine.IO WebSocket (no socket.io-client): .msgs (text frames),
// .open (the handshake's JSON), .closed → code.
function eioRaw(f) {
  const w = new WebSocket(`${f.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  w.msgs = [];
  w.closed = new Promise((r) => w.on('close', (code) => r(code)));
  w.opened = new Promise((resolve, reject) => {
    w.on('message', (d) => {
      const m = String(d);
      w.msgs.push(m);
      if (m.startsWith('0')) resolve(JSON.parse(m.slice(1)));
      if (m === '2') w.send('3');
    });
    w.on('error', reject);
  });
  f.wss.push(w);
  return w;
}

// ---- the cases -------------------------------------------------------------------------

export async function relayCases(f, { check }) {
  const { S } = f;
  const { env, T } = S;
  const P = f.name;
  const FORBIDDEN = { ok: false, error: 'forbidden' };

  await check(`${P}: socket.io-client with default options: polling first, then the upgrade to websocket`, async () => {
    const s = io(f.url, { auth: { token: f.tok('default') } });
    f.sockets.push(s);
    let first;
    const upgraded = new Promise((resolve) => {
      s.io.once('open', () => {
        first = s.io.engine.transport.name;
        s.io.engine.once('upgrade', (t) => resolve(t.name));
      });
    });
    await waitFor('connect', () => s.connected, 10000);
    assert.equal(first, 'polling', 'the handshake goes over polling');
    assert.equal(await Promise.race([upgraded, sleep(10000).then(() => 'no upgrade within 10 s')]), 'websocket');
    assert.equal(s.io.engine.transport.name, 'websocket', 'ends on websocket');
    assert.deepEqual(await ack(s, 'subscribe:organization', { organizationId: env.ORG_A }),
      { ok: true, room: `org:${env.ORG_A}`, replayed: 0 }, 'an ack over the upgraded transport');
    s.close();
  });

  await check(`${P}: socket.io-client, transports:[websocket] and transports:[polling]: connect and get acks`, async () => {
    for (const transports of [['websocket'], ['polling']]) {
      const s = await f.connect(f.tok(transports[0]), { transports });
      assert.equal(s.io.engine.transport.name, transports[0]);
      assert.equal((await ack(s, 'subscribe:organization', { organizationId: env.ORG_A })).ok, true, transports[0]);
      s.close();
    }
  });

  await check(`${P}: bad, missing and expired tokens → connect_error "unauthorized" (both transports)`, async () => {
    const wrongKey = S.jwt({ userId: 'u1', organizationId: env.ORG_A, role: 'viewer' }, { secret: 'wrong' });
    for (const transports of [['websocket'], ['polling']]) {
      for (const t of ['garbage', undefined, T.expired, wrongKey]) {
        const e = await f.connectError(t, { transports });
        assert.ok(e, `${transports}: token ${String(t).slice(0, 12)} accepted`);
        assert.equal(e.message, 'unauthorized', `${transports}: token ${String(t).slice(0, 12)}`);
      }
    }
  });

  await check(`${P}: ?token= and Authorization: Bearer are accepted too`, async () => {
    const a = await f.connect(undefined, { query: { token: f.tok('query') }, transports: ['websocket'] });
    a.close();
    const b = await f.connect(undefined, { extraHeaders: { authorization: `Bearer ${f.tok('header')}` },
      transports: ['websocket'] });
    b.close();
    const c = await f.connect(undefined, { extraHeaders: { authorization: `Bearer ${f.tok('header')}` },
      transports: ['polling'] });
    c.close();
  });

  await check(`${P}: create, update, assign, resolve, delete over REST reach exactly the SPEC §6 rooms, each once`, async () => {
    const { campus, buildings: [b1, b2] } = await f.place(2);
    const other = await f.place(1);
    const bPlace = await f.place(1, T.bAdmin, env.ORG_B);
    const tB = f.tok('orgB', { org: env.ORG_B });
    const sCampus = await f.connect(f.tok('campus'), { transports: ['websocket'] });
    const sBoth = await f.connect(f.tok('both', { role: 'staff' }), { transports: ['websocket'] });
    const sB1 = await f.connect(f.tok('b1'), { transports: ['polling'] });	// events over long-polling
    const sB2 = await f.connect(f.tok('b2'));
    const sOther = await f.connect(f.tok('other'));
    const sHeat = await f.connect(f.tok('heat'), { transports: ['websocket'] });
    const sNone = await f.connect(f.tok('none'), { transports: ['websocket'] });
    const sOrgB = await f.connect(tB, { transports: ['websocket'] });
    const wB1 = await f.wsOpen(`?token=${f.tok('wsb1')}`);
    const sub = async (s, ev, data, room) =>
      assert.deepEqual(await ack(s, ev, data), { ok: true, room, replayed: 0 }, `${ev} ${JSON.stringify(data)}`);
    await sub(sCampus, 'subscribe:campus', { campusId: campus.id }, `campus:${campus.id}`);
    await sub(sBoth, 'subscribe:organization', { organizationId: env.ORG_A }, `org:${env.ORG_A}`);
    await sub(sBoth, 'subscribe:campus', { campusId: Number(campus.id) }, `campus:${campus.id}`);
    await sub(sB1, 'subscribe:building', { buildingId: b1.id }, `building:${b1.id}`);
    await sub(sB2, 'subscribe:building', { buildingId: b2.id }, `building:${b2.id}`);
    await sub(sOther, 'subscribe:campus', { campusId: other.campus.id }, `campus:${other.campus.id}`);
    await sub(sHeat, 'subscribe:heatmap', { organizationId: env.ORG_A }, `heatmap:${env.ORG_A}`);
    await sub(sOrgB, 'subscribe:organization', { organizationId: env.ORG_B }, `org:${env.ORG_B}`);
    await sub(sOrgB, 'subscribe:campus', { campusId: bPlace.campus.id }, `campus:${bPlace.campus.id}`);
    wsSend(wB1, { event: 'subscribe:building', data: { buildingId: b1.id }, ackId: 1 });
    await waitFor('the /ws ack', () => wsAck(wB1, 1));
    assert.deepEqual(wsAck(wB1, 1), { ackId: 1, data: { ok: true, room: `building:${b1.id}`, replayed: 0 } });

    const before = S.lastEventId();
    const created = await f.mkIssue(b1.id);
    const ev = await waitFor('issue:created on the campus socket', () => named(sCampus, 'issue:created')[0], 5000);
    assert.equal(ev.args.length, 2, 'payload and offset');
    const [payload, offset] = ev.args;
    assert.deepEqual(payload.issue, created, 'the issue the 201 returned');
    assert.equal(offset, String(payload.eventId), 'the offset is the eventId, as a string');
    assert.deepEqual(payload, S.eventsSince(payload.eventId - 1, `id = ${payload.eventId}`)[0].payload,
      'the stored payload as-is');
    const sIssue = await f.connect(f.tok('issue'), { transports: ['websocket'] });
    await sub(sIssue, 'subscribe:issue', { issueId: created.id }, `issue:${created.id}`);

    let r = await f.rest('PATCH', `/api/issues/${created.id}`, { token: T.staff, body: { title: 'renamed', version: 1 } });
    f.ok(r, 200, 'PATCH');
    r = await f.rest('POST', `/api/issues/${created.id}/assign`, { token: T.staff, body: { assigneeId: 'u-fixer' } });
    f.ok(r, 200, 'assign');
    r = await f.rest('POST', `/api/issues/${created.id}/resolve`, { token: T.staff, body: { resolution: 'fixed' } });
    f.ok(r, 200, 'resolve');
    r = await f.rest('DELETE', `/api/issues/${created.id}`, { token: T.admin });
    assert.ok(r.status === 204 || r.status === 200, `delete: ${r.status} ${r.text}`);

    const want = S.eventsSince(before, `issue_id = '${created.id}' AND type LIKE 'issue:%'`);
    assert.deepEqual(want.map((e) => e.type),
      ['issue:created', 'issue:updated', 'issue:assigned', 'issue:resolved', 'issue:deleted'], 'the event log');
    const heat = S.eventsSince(before, `type = 'heatmap:updated' AND building_id = '${b1.id}'`);
    assert.ok(heat.length >= 1, 'heatmap:updated rows');
    const got = (s) => about(s, created.id).map((e) => [e.name, Number(e.args[1])]);
    const all = want.map((e) => [e.type, e.id]);
    for (const [s, what] of [[sCampus, 'campus'], [sBoth, 'org+campus'], [sB1, 'building (polling)']]) {
      await waitFor(`issue:deleted (${what})`, () => about(s, created.id).length >= all.length, 5000);
    }
    await waitFor('issue:deleted (issue room)', () => named(sIssue, 'issue:deleted').length, 5000);
    await waitFor('issue:deleted (/ws building room)', () => wsAbout(wB1, created.id).length >= all.length, 5000);
    await waitFor('heatmap:updated', () => named(sHeat, 'heatmap:updated').length >= heat.length, 5000);
    await sleep(300);		// anything extra or misrouted has arrived by now
    assert.deepEqual(got(sCampus), all, 'campus room: each event once, in order, offset = eventId');
    assert.deepEqual(got(sBoth), all, 'org + campus rooms: each event once');
    assert.deepEqual(got(sB1), all, 'building room over long-polling');
    assert.deepEqual(got(sIssue), all.slice(1), 'issue room (joined after the create)');
    assert.deepEqual(wsAbout(wB1, created.id).map((m) => [m.event, m.data.eventId]), all, '/ws building room');
    assert.deepEqual(named(sIssue, 'issue:deleted')[0].args[0].issueId, created.id);
    assert.deepEqual(issueEvents(sB2), [], 'another building of the campus gets nothing');
    assert.deepEqual(sOther.events, [], 'another campus gets nothing');
    assert.deepEqual(sNone.events, [], 'a socket without subscriptions gets nothing');
    // (its own organization's presence events it may get: another user's, or its own user:online)
    assert.deepEqual(sOrgB.events.filter((e) => !isPresence(e)), [], "another organization's rooms get nothing");
    assert.deepEqual(issueEvents(sHeat), [], 'no issue event in the heatmap room');
    const h = named(sHeat, 'heatmap:updated').filter((e) => String(e.args[0].buildingId) === String(b1.id));
    assert.deepEqual(h.map((e) => Number(e.args[1])), heat.map((e) => e.id), 'heatmap:{org}: every heatmap:updated, once');
    for (const s of [sCampus, sBoth, sB1, sIssue]) {
      assert.deepEqual(named(s, 'heatmap:updated'), [], 'no heatmap:updated outside heatmap:{org}');
    }

    // unsubscribe: an ack, then nothing more
    assert.equal((await ack(sCampus, 'unsubscribe:campus', { campusId: campus.id })).ok, true, 'unsubscribe ack');
    const n = sCampus.events.length;
    const later = await f.mkIssue(b1.id);
    await waitFor('the next create (building room)', () => about(sB1, later.id).length, 5000);
    await sleep(300);
    assert.equal(sCampus.events.length, n, 'nothing after unsubscribe');
    for (const s of [sCampus, sBoth, sB1, sB2, sOther, sHeat, sNone, sOrgB, sIssue]) s.close();
    wB1.close();
  });

  await check(`${P}: another organization's campus, building, org, heatmap and bad ids → forbidden`, async () => {
    const bPlace = await f.place(1, T.bAdmin, env.ORG_B);
    const s = await f.connect(f.tok('forbid'), { transports: ['websocket'] });
    assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: bPlace.campus.id }), FORBIDDEN, "orgB's campus");
    assert.deepEqual(await ack(s, 'subscribe:building', { buildingId: bPlace.b.id }), FORBIDDEN, "orgB's building");
    assert.deepEqual(await ack(s, 'subscribe:organization', { organizationId: env.ORG_B }), FORBIDDEN, 'orgB');
    assert.deepEqual(await ack(s, 'subscribe:heatmap', { organizationId: env.ORG_B }), FORBIDDEN, "orgB's heatmap");
    assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: 'abc' }), FORBIDDEN, 'campusId abc');
    assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: '999999999' }), FORBIDDEN, 'a missing campus');
    assert.deepEqual(await ack(s, 'subscribe:campus', {}), FORBIDDEN, 'no campusId');
    assert.deepEqual(await ack(s, 'subscribe:building', { buildingId: '-1' }), FORBIDDEN, 'buildingId -1');
    assert.deepEqual(await ack(s, 'subscribe:issue', { issueId: '1x' }), FORBIDDEN, 'issueId 1x');
    s.close();
    const w = await f.wsOpen(`?token=${f.tok('forbidws')}`);
    wsSend(w, { event: 'subscribe:campus', data: { campusId: bPlace.campus.id }, ackId: 3 });
    await waitFor('the /ws ack', () => wsAck(w, 3));
    assert.deepEqual(wsAck(w, 3), { ackId: 3, data: FORBIDDEN }, '/ws');
    w.close();
  });

  await check(`${P}: reconnect with lastEventId: exactly the missed events of the room, in order, then live ones`, async () => {
    const { campus, b } = await f.place(1);
    const other = await f.place(1);
    const user = f.user('resume');
    const t = f.tok('resume', { user });
    // Socket.IO: one event seen, the socket gone, three missed.
    const s1 = await f.connect(t, { transports: ['websocket'] });
    await ack(s1, 'subscribe:campus', { campusId: campus.id });
    const w1 = await f.wsOpen(`?token=${t}`);
    wsSend(w1, { event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 1 });
    await waitFor('the /ws ack', () => wsAck(w1, 1));
    const seen = await f.mkIssue(b.id);
    const got = await waitFor('the first create', () => about(s1, seen.id)[0]);
    await waitFor('the first create (/ws)', () => wsAbout(w1, seen.id)[0]);
    const lastSio = got.args[1];
    const lastWs = wsAbout(w1, seen.id)[0].data.eventId;
    assert.equal(String(lastWs), lastSio, 'the same event id on both endpoints');
    s1.close();
    w1.close();
    await w1.closed;
    const missed = [];
    for (let i = 0; i < 3; i++) {
      missed.push(await f.mkIssue(b.id));
      if (i === 1) await f.mkIssue(other.b.id);		// not this room
    }
    const want = S.eventsSince(Number(lastSio), `campus_id = '${campus.id}' AND type LIKE 'issue:%'`).map((e) => e.id);
    assert.equal(want.length, 3, 'three missed events in the log');
    await sleep(300);		// the relay has read them
    const s2 = await f.connect(t, { transports: ['websocket'] });
    assert.deepEqual(await ack(s2, 'subscribe:campus', { campusId: campus.id, lastEventId: lastSio }),
      { ok: true, room: `campus:${campus.id}`, replayed: 3 });
    assert.deepEqual(issueEvents(s2).map((e) => Number(e.args[1])), want, 'replayed before the ack, in order');
    assert.deepEqual(issueEvents(s2).map((e) => e.args[0].issue.id), missed.map((i) => i.id));
    const w2 = await f.wsOpen(`?token=${t}`);
    wsSend(w2, { event: 'subscribe:campus', data: { campusId: campus.id, lastEventId: lastWs }, ackId: 2 });
    await waitFor('the /ws ack', () => wsAck(w2, 2));
    assert.deepEqual(wsAck(w2, 2).data, { ok: true, room: `campus:${campus.id}`, replayed: 3 }, '/ws ack');
    const wsIds = () => w2.msgs.filter((m) => m.event?.startsWith('issue:')).map((m) => m.data.eventId);
    assert.deepEqual(wsIds(), want, '/ws: replayed before the ack, in order');
    const live = await f.mkIssue(b.id);
    await waitFor('the live one', () => about(s2, live.id).length && wsAbout(w2, live.id).length);
    await sleep(200);
    assert.equal(issueEvents(s2).length, 4, 'then the live one, nothing twice');
    assert.equal(wsIds().length, 4, '/ws: then the live one, nothing twice');
    s2.close();
    w2.close();
  });

  await check(`${P}: auth.lastEventId (and /ws ?lastEventId=): the user's missed notifications, in order, then live ones`, async () => {
    const user = f.user('notif');
    const t = f.tok('notif', { user });
    const before = S.lastEventId();
    const mine = [S.appendNotification(user, env.ORG_A, 'one')];
    S.appendNotification(f.user('notif-other'), env.ORG_A, 'not yours');
    S.appendNotification(user, env.ORG_B, 'same user id, another organization');
    mine.push(S.appendNotification(user, env.ORG_A, 'two'));
    await sleep(300);		// the relay has read them
    const notes = (s) => named(s, 'notification:new');
    const s = await f.connect(t, { transports: ['websocket'], auth: { token: t, lastEventId: before } });
    await waitFor('two notifications', () => notes(s).length === 2);
    assert.deepEqual(notes(s).map((e) => e.args[0].eventId), mine, 'only its own, in order');
    assert.deepEqual(notes(s).map((e) => e.args[1]), mine.map(String), 'each with its offset');
    assert.deepEqual(notes(s).map((e) => e.args[0].notification.title), ['one', 'two']);
    const plain = await f.connect(t, { transports: ['websocket'] });
    const wAuth = await f.wsOpen();
    wsSend(wAuth, { event: 'auth', data: { token: t, lastEventId: String(before) } });
    const wUrl = await f.wsOpen(`?token=${t}&lastEventId=${before}`);
    const wsNotes = (w) => w.msgs.filter((m) => m.event === 'notification:new').map((m) => m.data.eventId);
    await waitFor('/ws: two notifications', () => wsNotes(wAuth).length === 2 && wsNotes(wUrl).length === 2);
    assert.deepEqual(wsNotes(wAuth), mine, '/ws auth frame');
    assert.deepEqual(wsNotes(wUrl), mine, '/ws ?lastEventId=');
    assert.deepEqual(wAuth.msgs[0], { event: 'auth', data: { ok: true, userId: user } }, 'the auth answer first');
    const live = S.appendNotification(user, env.ORG_A, 'three');
    await waitFor('the live one', () => notes(s).length === 3 && notes(plain).length === 1 &&
      wsNotes(wAuth).length === 3 && wsNotes(wUrl).length === 3);
    await sleep(200);
    assert.deepEqual(notes(s).map((e) => e.args[0].eventId), [...mine, live], 'then live, nothing twice');
    assert.deepEqual(notes(plain).map((e) => e.args[0].eventId), [live], 'without lastEventId: live only');
    assert.deepEqual(wsNotes(wUrl), [...mine, live]);
    // a bad lastEventId is an error event; the connection stays
    const bad = await f.connect(t, { transports: ['websocket'], auth: { token: t, lastEventId: 'yesterday' } });
    await waitFor('error bad_request', () => named(bad, 'error').length === 1);
    assert.deepEqual(named(bad, 'error')[0].args[0], { code: 'bad_request' });
    assert.equal(notes(bad).length, 0);
    assert.deepEqual(await ack(bad, 'subscribe:organization', { organizationId: env.ORG_A }),
      { ok: true, room: `org:${env.ORG_A}`, replayed: 0 }, 'still served');
    for (const x of [s, plain, bad]) x.close();
    for (const w of [wAuth, wUrl]) w.close();
  });

  await check(`${P}: the 6th socket of a user → connect_error "too_many_connections"; /ws over the cap → 4429`, async () => {
    const t = f.tok('cap');
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await f.connect(t, { transports: [i % 2 ? 'polling' : 'websocket'] }));
    for (const transports of [['websocket'], ['polling']]) {
      const e = await f.connectError(t, { transports });
      assert.ok(e, `${transports}: the 6th was accepted`);
      assert.equal(e.message, 'too_many_connections', String(transports));
    }
    const w = await f.wsOpen(`?token=${t}`);
    const { code } = await Promise.race([w.closed, sleep(5000).then(() => ({ code: 'still open after 5 s' }))]);
    assert.equal(code, 4429, '/ws over the cap');
    assert.deepEqual(w.msgs, [{ event: 'error', data: { code: 'too_many_connections' } }], '/ws: the error first');
    mine.pop().close();
    await sleep(300);
    const again = await f.connect(t, { transports: ['websocket'] });
    again.close();
    for (const s of mine) s.close();
  });

  await check(`${P}: garbage, non-JSON, unknown events, oversize frames: each answered, the others still served`, async () => {
    const { campus, b } = await f.place(1);
    const watcher = await f.connect(f.tok('watch'), { transports: ['websocket'] });
    await ack(watcher, 'subscribe:campus', { campusId: campus.id });
    const wWatch = await f.wsOpen(`?token=${f.tok('wswatch')}`);
    wsSend(wWatch, { event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 1 });
    await waitFor('the /ws ack', () => wsAck(wWatch, 1));

    // Socket.IO: unknown events and bad data are answered, the socket stays.
    const s = await f.connect(f.tok('bad'), { transports: ['websocket'] });
    assert.deepEqual(await ack(s, 'no:such', { x: 1 }), { ok: false, error: 'unknown_event' }, 'unknown, with an ack');
    s.emit('no:such');
    await waitFor('error unknown_event', () => named(s, 'error').length);
    assert.deepEqual(named(s, 'error')[0].args[0], { code: 'unknown_event' }, 'unknown, without an ack');
    assert.deepEqual(await ack(s, 'subscribe:campus', 'a string'), FORBIDDEN, 'data that is not an object');
    assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: campus.id, lastEventId: 'x' }),
      { ok: false, error: 'bad_request' }, 'lastEventId x');
    assert.equal(s.connected, true, 'still connected');

    // Raw Engine.IO: garbage Socket.IO packets close that session only.
    const raw = eioRaw(f);
    await raw.opened;
    raw.send(`40{"token":"${f.tok('raw')}"}`);
    await waitFor('the CONNECT reply', () => raw.msgs.some((m) => m.startsWith('40')));
    raw.send('42not json');
    raw.send('4x');
    const rawCode = await Promise.race([raw.closed, sleep(5000).then(() => 'still open after 5 s')]);
    assert.equal(typeof rawCode, 'number', `garbage Socket.IO packets: ${rawCode}`);

    // /ws: each bad frame gets an error, the connection stays.
    const w = await f.wsOpen(`?token=${f.tok('wsbad')}`);
    const errors = () => w.msgs.filter((m) => m.event === 'error');
    const sent = ['not json', '[1,2]', '"text"', '{"data":{}}', '{"event":7}'];
    for (const frame of sent) wsSend(w, frame);
    await waitFor(`${sent.length} errors`, () => errors().length >= sent.length);
    for (const [i, m] of errors().entries()) {
      assert.deepEqual(m, { event: 'error', data: { code: 'bad_request' } }, `/ws frame ${JSON.stringify(sent[i])}`);
    }
    wsSend(w, { event: 'no:such', data: {}, ackId: 9 });
    await waitFor('the unknown_event ack', () => wsAck(w, 9));
    assert.deepEqual(wsAck(w, 9), { ackId: 9, data: { ok: false, error: 'unknown_event' } }, '/ws unknown, with ackId');
    wsSend(w, { event: 'no:such', data: {} });
    await waitFor('error unknown_event', () => errors().length === sent.length + 1);
    assert.deepEqual(errors()[sent.length], { event: 'error', data: { code: 'unknown_event' } }, '/ws unknown, no ackId');
    wsSend(w, { event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 10 });
    await waitFor('a good ack after all that', () => wsAck(w, 10));
    assert.equal(wsAck(w, 10).data.ok, true, '/ws still serves');

    // Meanwhile the others are served as before.
    const i = await f.mkIssue(b.id);
    await waitFor('the watchers get the next event', () => about(watcher, i.id).length && wsAbout(wWatch, i.id).length);
    assert.equal(s.connected, true, 'the socket with the unknown events is still connected');

    // Raw Engine.IO: a message over maxPayload → close 1009, every time
    // (5 tries: a close frame lost on the way is not always lost).
    const bigCodes = [];
    for (let k = 0; k < 5; k++) {
      const big = eioRaw(f);
      const open = await big.opened;
      assert.equal(open.maxPayload, f.maxPayload, 'maxPayload in the handshake');
      big.send(`4${'x'.repeat(f.maxPayload + 1)}`);
      bigCodes.push(await Promise.race([big.closed, sleep(5000).then(() => 'still open after 5 s')]));
    }

    // /ws: a frame over relay.max_payload_bytes → close 1009 (and 4 more tries).
    const codes = [];
    for (let k = 0; k < 5; k++) {
      const v = k ? await f.wsOpen(`?token=${f.tok('wsbig')}`) : w;
      v.send('x'.repeat(f.maxPayload + 1));
      codes.push((await Promise.race([v.closed, sleep(5000).then(() => ({ code: 'still open after 5 s' }))])).code);
    }

    const i2 = await f.mkIssue(b.id);
    await waitFor('the watchers get the event after the oversize frames',
      () => about(watcher, i2.id).length && wsAbout(wWatch, i2.id).length);
    const r = await fetch(`${f.url}/health/websocket`);
    assert.equal(r.status, 200, '/health/websocket still answers');
    assert.ok([...bigCodes, ...codes].every((c) => c === 1009), 'frames over the limit must get close 1009: ' +
      `Engine.IO over WebSocket got ${bigCodes.join(', ')}; /ws got ${codes.join(', ')}`);
    watcher.close();
    wWatch.close();
    s.close();
  });

  await check(`${P}: GET /health/websocket → {status:"ok", service:"websocket", connectedClients:N}`, async () => {
    const s = await f.connect(f.tok('health'), { transports: ['websocket'] });
    const r = await fetch(`${f.url}/health/websocket`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') || '', /^application\/json/);
    const j = await r.json();
    assert.deepEqual(Object.keys(j), ['status', 'service', 'connectedClients']);
    assert.equal(j.status, 'ok');
    assert.equal(j.service, 'websocket');
    assert.ok(Number.isInteger(j.connectedClients) && j.connectedClients >= 1, JSON.stringify(j));
    s.close();
  });

  await check(`${P}: /ws: auth frame, subscribe with ackId, an event arrives`, async () => {
    const { campus, b } = await f.place(1);
    const user = f.user('wsauth');
    const w = await f.wsOpen();
    wsSend(w, { event: 'auth', data: { token: f.tok('wsauth', { user }) } });
    await waitFor('auth', () => w.msgs.length === 1);
    assert.deepEqual(w.msgs[0], { event: 'auth', data: { ok: true, userId: user } });
    wsSend(w, { event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 7 });
    await waitFor('ack', () => w.msgs.length === 2);
    assert.deepEqual(w.msgs[1], { ackId: 7, data: { ok: true, room: `campus:${campus.id}`, replayed: 0 } });
    const i = await f.mkIssue(b.id);
    await waitFor('issue:created', () => w.msgs.length === 3);
    assert.equal(w.msgs[2].event, 'issue:created');
    assert.deepEqual(w.msgs[2].data.issue, i);
    w.close();
  });

  await check(`${P}: /ws: ?token= and Authorization work; a bad token → error unauthorized, close 4401`, async () => {
    for (const [q, h] of [[`?token=${f.tok('wsq')}`, {}], ['', { authorization: `Bearer ${f.tok('wsh')}` }]]) {
      const a = await f.wsOpen(q, h);
      wsSend(a, { event: 'subscribe:organization', data: { organizationId: env.ORG_A }, ackId: 1 });
      await waitFor('ack', () => wsAck(a, 1));
      assert.equal(wsAck(a, 1).data.ok, true, q ? '?token=' : 'Authorization');
      a.close();
    }
    const b = await f.wsOpen();
    wsSend(b, { event: 'auth', data: { token: 'bad' } });
    assert.equal((await b.closed).code, 4401);
    assert.deepEqual(b.msgs, [{ event: 'error', data: { code: 'unauthorized' } }]);
    const c = await f.wsOpen('?token=garbage');
    assert.equal((await c.closed).code, 4401, '?token=garbage');
    const d = await f.wsOpen();
    wsSend(d, { event: 'subscribe:campus', data: { campusId: '1' } });
    assert.equal((await d.closed).code, 4401, 'an event before auth');
  });
}
