// ciis-relay's connection state recovery from the database (SPEC §8) with
// an unmodified socket.io-client 4.8: the CONNECT reply's pid, every event
// stamped with its id as the offset, and a client that comes back — after a
// dropped transport, after the relay was killed and started again, after a
// SIGTERM restart — gets socket.recovered, its rooms and exactly the events
// it missed, in order, then the live ones.  Not recovered: another user's
// pid, a session older than relay.recovery_seconds.  Also: presence rows and
// relay_sessions rows in MySQL, and ephemeral events without an offset.
import {
  env, check as check1, done, need as needOk, assert, jwt, mkCampus, mkBuilding, mkIssue, db, dbValue,
} from './lib/stack.mjs';
import { need } from './lib/npm.mjs';
import { relayBin, startRelay as start, freePort, sleep, waitFor } from './lib/relay-cases.mjs';

const { io } = need('socket.io-client');

relayBin();
let failures = 0;
const check = async (name, fn) => { if (!(await check1(name, fn))) failures++; };
const RECOVERY_S = 6;	// relay.recovery_seconds for this relay

// ---- the relay, started and stopped by the cases, always on one port ----------------

let relay, relayLog = '';
const port = await freePort();
const URL_ = `http://127.0.0.1:${port}`;

async function startRelay() {
  relay = await start({ conf: env.CIIS_CONF, port, env: { CIIS_RELAY_RECOVERY_SECONDS: String(RECOVERY_S) } });
}
async function stopRelay(sig) {
  const ex = await relay.stop(sig);
  relayLog += relay.log();
  assert.ok(!relay.sanitizer(), relay.log());
  return ex;
}

// ---- helpers --------------------------------------------------------------------------

let users = 0;
// users of their own in every run: the stack's database may hold rows of an earlier one
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const tok = () => jwt({ userId: `u-recov-${run}-${++users}`, organizationId: env.ORG_A, role: 'viewer', name: `R ${users}` });

const sockets = [];
// A socket that reconnects by itself, quickly; .events: every server event.
function connect(token, opts = {}) {
  return new Promise((resolve, reject) => {
    const s = io(URL_, { auth: { token }, forceNew: true, reconnectionDelay: 200,
      reconnectionDelayMax: 500, transports: ['websocket'], ...opts });
    s.events = [];
    s.onAny((name, ...args) => s.events.push({ name, args }));
    sockets.push(s);
    // a refusal of the first CONNECT fails the promise; later ones are
    // the reconnection's own business
    const refused = (e) => { s.close(); reject(e); };
    s.once('connect_error', refused);
    s.once('connect', () => { s.off('connect_error', refused); resolve(s); });
  });
}
const ack = (s, name, data) => s.timeout(5000).emitWithAck(name, data);
const created = (s) => s.events.filter((e) => e.name === 'issue:created');
const createdIds = (s) => created(s).map((e) => String(e.args[0].issue.id));
// The next 'connect' after a reconnection (the socket's own, not the first).
const reconnected = (s, ms = 15000) => new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('no reconnection')), ms);
  s.once('connect', () => { clearTimeout(t); resolve(); });
});
const dropped = (s) => new Promise((r) => s.once('disconnect', r));

// ---- fixtures ---------------------------------------------------------------------------

const campus = await mkCampus();
const b1 = await mkBuilding(campus.id);
const other = await mkCampus();
const otherB = await mkBuilding(other.id);
needOk(campus && b1 && other && otherB, 'campuses and buildings');
await startRelay();

// ---- the pid and the offsets --------------------------------------------------------------

let s1;
await check('the CONNECT reply carries a pid; every issue event ends with its id as the offset', async () => {
  s1 = await connect(tok());
  assert.match(s1._pid, /^[A-Za-z0-9_-]{20}$/, 'pid');
  assert.equal(s1.recovered, false);
  assert.equal((await ack(s1, 'subscribe:campus', { campusId: campus.id })).ok, true);
  const is = await mkIssue(b1.id);
  const ev = await waitFor('issue:created', () => created(s1)[0]);
  assert.equal(ev.args.length, 2);
  assert.equal(ev.args[1], String(ev.args[0].eventId));
  assert.equal(s1._lastOffset, String(ev.args[0].eventId), 'the client keeps it');
  assert.equal(String(ev.args[0].issue.id), is.id);
});

await check('MySQL: a presence row per socket and the session with its rooms', async () => {
  await waitFor('the rows', () => dbValue(`SELECT COUNT(*) FROM relay_sessions WHERE pid = '${s1._pid}'`) === '1');
  const [row] = db(`SELECT org_id, user_id, rooms, process_id IS NOT NULL FROM relay_sessions WHERE pid = '${s1._pid}'`);
  assert.equal(row[0], env.ORG_A);
  assert.deepEqual(row[2].split(' ').sort(), [`campus:${campus.id}`, `user:${row[1]}`].sort());
  assert.equal(row[3], '1', 'held by a relay');
  assert.equal(dbValue(`SELECT COUNT(*) FROM presence WHERE user_id = '${row[1]}'`), '1');
});

await check('a dropped transport: reconnects with {pid, offset}, recovered, gets exactly the missed events, then live ones', async () => {
  const pid = s1._pid;
  const before = createdIds(s1).length;
  const back = reconnected(s1);
  s1.io.engine.close();			// "transport close": the client comes back by itself
  const missed = [await mkIssue(b1.id), await mkIssue(b1.id)];
  await mkIssue(otherB.id);			// not in its rooms
  await back;
  assert.equal(s1.recovered, true, 'socket.recovered');
  assert.equal(s1._pid, pid, 'the same pid');
  await waitFor('the missed events', () => createdIds(s1).length >= before + 2);
  const live = await mkIssue(b1.id);
  await waitFor('the live event', () => createdIds(s1).includes(live.id));
  await sleep(300);
  assert.deepEqual(createdIds(s1).slice(before), [...missed.map((i) => i.id), live.id], 'in order, each once');
});

await check('a socket that got no event comes back with {pid} alone: recovered from where its session began', async () => {
  const s = await connect(tok());
  assert.equal((await ack(s, 'subscribe:campus', { campusId: campus.id })).ok, true);
  assert.equal(s._lastOffset, undefined);
  await sleep(250);				// its rooms are written
  const back = reconnected(s);
  s.io.engine.close();
  const missed = await mkIssue(b1.id);
  await back;
  assert.equal(s.recovered, true);
  await waitFor('the missed event', () => createdIds(s).includes(missed.id));
  assert.deepEqual(createdIds(s), [missed.id]);
  s.close();
});

await check('another user\'s pid is not recovered: a fresh session without its rooms', async () => {
  const a = await connect(tok());
  assert.equal((await ack(a, 'subscribe:campus', { campusId: other.id })).ok, true);
  await sleep(250);
  const b = await connect(tok());
  const back = reconnected(b);
  b._pid = a._pid;				// as if b had learnt it
  b.io.engine.close();
  await back;
  assert.equal(b.recovered, false);
  assert.notEqual(b._pid, a._pid, 'a new pid');
  const is = await mkIssue(otherB.id);
  await waitFor('a gets it', () => createdIds(a).includes(is.id));
  await sleep(300);
  assert.deepEqual(createdIds(b), [], 'b is not in a\'s rooms');
  a.close();
  b.close();
});

await check('presence events carry no offset (ephemeral)', async () => {
  const org = await connect(tok());
  assert.equal((await ack(org, 'subscribe:organization', { organizationId: env.ORG_A })).ok, true);
  const t = tok();
  const x = await connect(t);
  const on = await waitFor('user:online', () => org.events.find((e) => e.name === 'user:online' &&
    e.args[0].userId === JSON.parse(Buffer.from(t.split('.')[1], 'base64url')).userId));
  assert.equal(on.args.length, 1, 'no offset');
  x.close();
  org.close();
});

// ---- across restarts --------------------------------------------------------------------

for (const sig of ['SIGKILL', 'SIGTERM']) {
  await check(`the relay ${sig === 'SIGKILL' ? 'killed -9' : 'stopped by SIGTERM'} and started again: the client is recovered with its rooms and the missed events`, async () => {
    const s = await connect(tok());
    assert.equal((await ack(s, 'subscribe:building', { buildingId: b1.id })).ok, true);
    assert.equal((await ack(s, 'subscribe:campus', { campusId: other.id })).ok, true);
    const first = await mkIssue(b1.id);
    await waitFor('a first event', () => createdIds(s).includes(first.id));
    await sleep(300);				// rooms written
    const pid = s._pid;
    const gone = dropped(s);
    await stopRelay(sig);
    await gone;
    const missed = [await mkIssue(b1.id), await mkIssue(otherB.id), await mkIssue(b1.id)];
    const back = reconnected(s);
    await startRelay();
    await back;
    assert.equal(s.recovered, true, 'socket.recovered');
    assert.equal(s._pid, pid);
    await waitFor('the 3 missed events', () => createdIds(s).length >= 4);
    const live = await mkIssue(otherB.id);
    await waitFor('a live one', () => createdIds(s).includes(live.id));
    await sleep(300);
    assert.deepEqual(createdIds(s), [first, ...missed, live].map((i) => i.id), 'in order, each once');
    s.close();
  });
}

await check(`older than relay.recovery_seconds (${RECOVERY_S}): not recovered`, async () => {
  const s = await connect(tok(), { reconnection: false });
  assert.equal((await ack(s, 'subscribe:campus', { campusId: campus.id })).ok, true);
  await sleep(300);
  const pid = s._pid;
  const gone = dropped(s);
  s.io.engine.close();
  await gone;
  await sleep((RECOVERY_S + 1) * 1000);
  const back = new Promise((r) => s.once('connect', r));
  s.connect();
  await back;
  assert.equal(s.recovered, false);
  assert.notEqual(s._pid, pid);
  s.close();
});

await check('a closed socket leaves no presence row; its session row is released', async () => {
  const t = tok();
  const user = JSON.parse(Buffer.from(t.split('.')[1], 'base64url')).userId;
  const s = await connect(t);
  await waitFor('presence row', () => dbValue(`SELECT COUNT(*) FROM presence WHERE user_id = '${user}'`) === '1');
  const pid = s._pid;
  s.close();
  await waitFor('presence row gone', () => dbValue(`SELECT COUNT(*) FROM presence WHERE user_id = '${user}'`) === '0');
  assert.equal(dbValue(`SELECT process_id IS NULL FROM relay_sessions WHERE pid = '${pid}'`), '1');
});

for (const s of sockets) s.close();
const ex = await stopRelay('SIGTERM');
await check('the relay exits 0 on SIGTERM', async () => assert.deepEqual(ex, { code: 0, sig: null }));
if (failures) console.log(relayLog.split('\n').slice(-40).map((l) => `# ${l}`).join('\n'));
done();
