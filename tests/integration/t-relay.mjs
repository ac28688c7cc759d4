// ciis-relay (SPEC §8) straight at the relay, over the stack's database
// and REST API: the cases of lib/relay-cases.mjs (which t-relay-proxy.mjs
// runs through lighttpd and Apache) — both transports and the upgrade, JWT
// at CONNECT, rooms and fan-out of REST changes, lastEventId replay, the
// per-user cap, bad input, /ws with the ws package — and those that need
// the relay itself: a replay from the table (events older than the
// relay), presence, the rate limit, token expiry and renewal, the /ws auth
// timeout and SIGTERM.  The relay is this test's own, on a free port, with
// the stack's ciis.conf (and a low relay.events_per_minute through the
// environment).
import {
  env, api, check, done, assert, T, jwt, lastEventId, eventsSince,
} from './lib/stack.mjs';
import * as S from './lib/stack.mjs';
import {
  relayBin, startRelay, relayFront, relayCases, waitFor, sleep, ack, named, issueEvents, about,
} from './lib/relay-cases.mjs';

relayBin();
const LIMIT = 20;		// relay.events_per_minute for this relay
const f = relayFront({ name: 'direct', url: 'http://127.0.0.1:0', rest: api, S });

// Before the relay starts: a replay of these must come from the table.
const early = await f.place(1);
const beforeEarly = lastEventId();
await f.mkIssue(early.b.id);
await f.mkIssue(early.b.id);

const R = await startRelay({ conf: env.CIIS_CONF, env: { CIIS_RELAY_EVENTS_PER_MINUTE: String(LIMIT) } });
f.url = R.url;

await relayCases(f, { check });

// ---- what only the relay itself shows ---------------------------------------------------

await check('lastEventId older than the relay: replayed from the table', async () => {
  const want = eventsSince(beforeEarly, `campus_id = ${early.campus.id} AND type LIKE 'issue:%'`).map((e) => e.id);
  assert.equal(want.length, 2, 'two events before the relay started');
  const s = await f.connect(f.tok('table'), { transports: ['websocket'] });
  const a = await ack(s, 'subscribe:campus', { campusId: early.campus.id, lastEventId: String(beforeEarly) });
  assert.deepEqual(a, { ok: true, room: `campus:${early.campus.id}`, replayed: want.length });
  assert.deepEqual(issueEvents(s).map((e) => Number(e.args[1])), want);
  await f.mkIssue(early.b.id);
  await waitFor('the live one', () => issueEvents(s).length === want.length + 1);
  s.close();
});

await check('a replay skips what the socket already had through another room', async () => {
  const { campus, b } = await f.place(1);
  const s = await f.connect(f.tok('skip'), { transports: ['websocket'] });
  await ack(s, 'subscribe:organization', { organizationId: env.ORG_A });
  const before = lastEventId();
  const i = await f.mkIssue(b.id);
  await waitFor('issue:created', () => about(s, i.id).length === 1);
  const a = await ack(s, 'subscribe:campus', { campusId: campus.id, lastEventId: before });
  assert.equal(a.replayed, 0);
  await sleep(200);
  assert.equal(about(s, i.id).length, 1);
  s.close();
});

await check('presence: the first socket of a user → user:online, the last one gone → user:offline, to org:{org}', async () => {
  const watcher = await f.connect(f.tok('presence-watch'), { transports: ['websocket'] });
  await ack(watcher, 'subscribe:organization', { organizationId: env.ORG_A });
  const who = jwt({ userId: 'u-presence', organizationId: env.ORG_A, role: 'viewer', name: 'Pat' });
  const a = await f.connect(who, { transports: ['websocket'] });
  const b = await f.connect(who, { transports: ['websocket'] });
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

await check(`past relay.events_per_minute (${LIMIT}): error rate_limited per event, closed at twice it`, async () => {
  const s = await f.connect(f.tok('rate'), { transports: ['websocket'] });
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
  const s = await f.connect(tok, { transports: ['websocket'] });
  let reason;
  s.on('disconnect', (r) => { reason = r; });
  await waitFor('token:expired', () => named(s, 'token:expired').length, 5000);
  await waitFor('the disconnect', () => reason, 3000);
  assert.equal(reason, 'transport close');
});

await check('auth:refresh {token} → {ok:true, exp}; another user → forbidden', async () => {
  const now = Math.floor(Date.now() / 1000);
  const tok = jwt({ userId: 'u-ref', organizationId: env.ORG_A, role: 'viewer', exp: now + 2 });
  const s = await f.connect(tok, { transports: ['websocket'] });
  const fresh = jwt({ userId: 'u-ref', organizationId: env.ORG_A, role: 'viewer', exp: now + 600 });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: fresh }), { ok: true, exp: now + 600 });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: T.viewer }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await ack(s, 'auth:refresh', { token: 'junk' }), { ok: false, error: 'forbidden' });
  await sleep(2500);
  assert.equal(s.connected, true, 'renewed: still connected past the old exp');
  assert.deepEqual(named(s, 'token:expired'), []);
  s.close();
});

await check('/ws: no auth frame within 5 s → error unauthorized, close 4401', async () => {
  const silent = await f.wsOpen();
  const t0 = Date.now();
  const { code } = await silent.closed;
  assert.equal(code, 4401);
  assert.ok(Date.now() - t0 > 4000, `closed after ${Date.now() - t0} ms`);
  assert.deepEqual(silent.msgs, [{ event: 'error', data: { code: 'unauthorized' } }]);
});

// ---- SIGTERM ------------------------------------------------------------------------------

await check('SIGTERM: every client is closed properly and the relay exits 0', async () => {
  const w = await f.wsOpen(`?token=${f.tok('term-ws')}`);
  const socks = [await f.connect(f.tok('term-a'), { transports: ['websocket'] }),
    await f.connect(f.tok('term-b'), { transports: ['polling'] })];
  let gone = 0;
  for (const s of socks) s.on('disconnect', () => { gone++; });
  R.proc.kill('SIGTERM');
  assert.equal((await w.closed).code, 1001, '/ws close code');
  await waitFor('socket.io disconnects', () => gone === 2, 3000);
  assert.deepEqual(await R.exit, { code: 0, sig: null });
  assert.equal(R.sanitizer(), false, R.log());
});

f.closeAll();
if (process.exitCode) console.log(R.tail());
done();
