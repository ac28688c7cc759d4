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
const earlyUser = f.user('early-notif');
const earlyNote = S.appendNotification(earlyUser);

const R = await startRelay({ conf: env.CIIS_CONF, env: { CIIS_RELAY_EVENTS_PER_MINUTE: String(LIMIT) } });
f.url = R.url;

await relayCases(f, { check });

// ---- what only the relay itself shows ---------------------------------------------------

await check('auth.lastEventId older than the relay: the notification replayed from the table', async () => {
  const t = f.tok('early-notif', { user: earlyUser });
  const s = await f.connect(t, { transports: ['websocket'], auth: { token: t, lastEventId: earlyNote - 1 } });
  await waitFor('the notification', () => named(s, 'notification:new').length === 1);
  assert.equal(named(s, 'notification:new')[0].args[0].eventId, earlyNote);
  const w = await f.wsOpen(`?token=${t}&lastEventId=${earlyNote - 1}`);
  await waitFor('/ws: the notification', () => w.msgs.some((m) => m.event === 'notification:new'));
  await sleep(200);
  assert.deepEqual(w.msgs.filter((m) => m.event === 'notification:new').map((m) => m.data.eventId), [earlyNote]);
  assert.equal(named(s, 'notification:new').length, 1, 'once');
  s.close();
  w.close();
});

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

// Presence goes through the events table, so a second relay process sees it.
const R2 = await startRelay({ conf: env.CIIS_CONF });
const f2 = relayFront({ name: 'second', url: R2.url, rest: api, S });
const about_ = (s, ev, user) => named(s, ev).filter((e) => e.args[0].userId === user);

await check('presence: the first socket of a user → user:online, the last one gone → user:offline, to org:{org}, on every relay process', async () => {
  const watchers = [await f.connect(f.tok('presence-watch'), { transports: ['websocket'] }),
    await f2.connect(f2.tok('presence-watch2'), { transports: ['websocket'] })];
  for (const w of watchers) await ack(w, 'subscribe:organization', { organizationId: env.ORG_A });
  const user = f.user('presence');
  const who = jwt({ userId: user, organizationId: env.ORG_A, role: 'viewer', name: 'Pat' });
  const a = await f.connect(who, { transports: ['websocket'] });
  const b = await f2.connect(who, { transports: ['websocket'] });	// the other process
  for (const w of watchers) await waitFor('user:online', () => about_(w, 'user:online', user).length);
  await sleep(300);
  for (const w of watchers) {
    const on = about_(w, 'user:online', user);
    assert.equal(on.length, 1, 'once per user, over both processes');
    assert.equal(on[0].args.length, 1, 'no offset');
    assert.equal(on[0].args[0].name, 'Pat');
    assert.equal(on[0].args[0].status, 'online');
    assert.match(on[0].args[0].lastSeen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  a.close();
  await sleep(500);
  for (const w of watchers) assert.deepEqual(about_(w, 'user:offline', user), [], 'not while a socket is left');
  b.close();
  for (const w of watchers) {
    const off = await waitFor('user:offline', () => about_(w, 'user:offline', user)[0]);
    assert.equal(off.args.length, 1, 'no offset');
    assert.equal(off.args[0].status, 'offline');
  }
  for (const w of watchers) w.close();
});

await check('presence: a user\'s first sockets opened at once on two relay processes → user:online once; closed at once → user:offline once', async () => {
  const watcher = await f.connect(f.tok('race-watch'), { transports: ['websocket'] });
  await ack(watcher, 'subscribe:organization', { organizationId: env.ORG_A });
  const users = Array.from({ length: 24 }, (_, i) => f.user(`race${i}`));
  const pairs = await Promise.all(users.map((u) => {
    const t = f.tok('race', { user: u });
    return Promise.all([f.connect(t, { transports: ['websocket'] }), f2.connect(t, { transports: ['websocket'] })]);
  }));
  await waitFor('user:online of each', () => users.every((u) => about_(watcher, 'user:online', u).length));
  await sleep(500);
  assert.deepEqual(users.map((u) => about_(watcher, 'user:online', u).length), users.map(() => 1));
  for (const [a, b] of pairs) { a.close(); b.close(); }
  await waitFor('user:offline of each', () => users.every((u) => about_(watcher, 'user:offline', u).length));
  await sleep(500);
  assert.deepEqual(users.map((u) => about_(watcher, 'user:offline', u).length), users.map(() => 1));
  watcher.close();
});

await check('presence: the rows of a relay that stopped refreshing them are dropped by the live relays, with user:offline once, and none for a user still online elsewhere', async () => {
  const watcher = await f2.connect(f2.tok('dead-watch'), { transports: ['websocket'] });
  await ack(watcher, 'subscribe:organization', { organizationId: env.ORG_A });
  const [gone, alive] = [f.user('dead-gone'), f.user('dead-alive')];
  const live = await f.connect(f.tok('x', { user: alive }), { transports: ['websocket'] });
  await waitFor('user:online of the live one', () => about_(watcher, 'user:online', alive).length);
  for (const [u, k] of [[gone, 'a'], [gone, 'b'], [alive, 'c']])
    S.db(`INSERT INTO presence (socket_id, org_id, user_id, name, status, process_id, seen_at)
      VALUES ('dead-${process.pid}-${k}', '${env.ORG_A}', '${u}', 'Dee', 'online', 'a-dead-relay',
      UTC_TIMESTAMP(3) - INTERVAL 2 MINUTE)`);
  // each relay refreshes, and drops dead rows, every 20 s
  await waitFor('the dead rows dropped', () =>
    Number(S.dbValue(`SELECT COUNT(*) FROM presence WHERE process_id = 'a-dead-relay'`)) === 0, 30000);
  await waitFor('user:offline of the gone one', () => about_(watcher, 'user:offline', gone).length, 5000);
  await sleep(500);
  assert.equal(about_(watcher, 'user:offline', gone).length, 1, 'once, over both relays and two rows');
  assert.equal(about_(watcher, 'user:offline', gone)[0].args[0].name, 'Dee');
  assert.deepEqual(about_(watcher, 'user:offline', alive), [], 'still online on a live relay');
  live.close();
  await waitFor('user:offline once it closed', () => about_(watcher, 'user:offline', alive).length);
  watcher.close();
});

await check('presence:update {status} → presence:updated to the organization\'s other users, on every process; a bad status → bad_request', async () => {
  const watcher = await f2.connect(f2.tok('upd-watch'), { transports: ['websocket'] });
  await ack(watcher, 'subscribe:organization', { organizationId: env.ORG_A });
  const user = f.user('upd');
  const who = jwt({ userId: user, organizationId: env.ORG_A, role: 'viewer', name: 'Sam' });
  const s = await f.connect(who, { transports: ['websocket'] });
  const mine = await f2.connect(who, { transports: ['websocket'] });	// the sender's other socket
  await ack(s, 'subscribe:organization', { organizationId: env.ORG_A });
  await ack(mine, 'subscribe:organization', { organizationId: env.ORG_A });
  assert.deepEqual(await ack(s, 'presence:update', { status: 'away' }), { ok: true });
  const up = await waitFor('presence:updated', () => about_(watcher, 'presence:updated', user)[0]);
  assert.equal(up.args.length, 1, 'no offset');
  assert.equal(up.args[0].status, 'away');
  assert.equal(up.args[0].name, 'Sam');
  await waitFor('the row', () => S.dbValue(`SELECT status FROM presence WHERE user_id = '${user}' AND status = 'away'`) === 'away');
  await sleep(300);
  assert.deepEqual(named(s, 'presence:updated'), [], 'not echoed to the sender');
  assert.deepEqual(named(mine, 'presence:updated'), [], 'nor to its other sockets');
  for (const bad of [{ status: 'busy' }, {}, { status: 1 }, 'away'])
    assert.deepEqual(await ack(s, 'presence:update', bad), { ok: false, error: 'bad_request' }, JSON.stringify(bad));
  for (const x of [watcher, s, mine]) x.close();
});

await check('GET /api/realtime/users/online: online and away users of the caller\'s organization over every relay process, paged', async () => {
  const org = `org-online-${process.pid}`;	// its own, so that nobody else is online in it
  const tok = (userId, name) => jwt({ userId, organizationId: org, role: 'viewer', name });
  const online = async (q = '', token = tok('u-asker', 'Asker')) => {
    const r = await api('GET', `/api/realtime/users/online${q}`, { token });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const a1 = await f.connect(tok('u-a', 'Ada'), { transports: ['websocket'] });
  const a2 = await f2.connect(tok('u-a', 'Ada'), { transports: ['websocket'] });	// the other process
  const b = await f.connect(tok('u-b', 'Bo'), { transports: ['websocket'] });
  const c = await f2.connect(tok('u-c', 'Cy'), { transports: ['websocket'] });
  const hidden = await f.connect(tok('u-d', 'Di'), { transports: ['websocket'] });
  const userA = f.user('online-orgA');
  const other = await f.connect(f.tok('online-orgA', { user: userA }), { transports: ['websocket'] });
  assert.deepEqual(await ack(a2, 'presence:update', { status: 'away' }), { ok: true });
  assert.deepEqual(await ack(b, 'presence:update', { status: 'away' }), { ok: true });
  assert.deepEqual(await ack(hidden, 'presence:update', { status: 'offline' }), { ok: true });
  const want = [['u-a', 'Ada', 'online'], ['u-b', 'Bo', 'away'], ['u-c', 'Cy', 'online']];
  const brief = (l) => l.items.map((u) => [u.userId, u.name, u.status]);
  await waitFor('the presence rows', async () =>
    JSON.stringify(brief(await online())) === JSON.stringify(want), 10000);
  const all = await online();
  assert.equal(all.nextCursor, null);
  for (const u of all.items) {
    assert.deepEqual(Object.keys(u).sort(), ['lastSeen', 'name', 'status', 'userId']);
    assert.match(u.lastSeen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(u.lastSeen) - Date.now()) < 60000, u.lastSeen);
  }
  const p1 = await online('?limit=2');
  assert.deepEqual(brief(p1), want.slice(0, 2));
  assert.equal(typeof p1.nextCursor, 'string');
  const p2 = await online(`?limit=2&cursor=${p1.nextCursor}`);
  assert.deepEqual(brief(p2), want.slice(2));
  assert.equal(p2.nextCursor, null);
  const inA = brief(await online('?limit=200', T.viewer)).map(([u]) => u);
  assert.ok(inA.includes(userA), 'organization A lists its own user');
  assert.ok(!inA.some((u) => ['u-a', 'u-b', 'u-c'].includes(u)), 'and nobody of the other organization');
  assert.equal((await api('GET', '/api/realtime/users/online')).status, 401);
  assert.equal((await api('GET', '/api/realtime/users/online?cursor=nonsense', { token: tok('u-x') })).status, 400);
  a1.close();
  await waitFor('u-a away: its online socket gone', async () =>
    JSON.stringify(brief(await online()).find(([u]) => u === 'u-a')) === JSON.stringify(['u-a', 'Ada', 'away']));
  for (const x of [a2, b, c, hidden, other]) x.close();
  await waitFor('nobody left', async () => (await online()).items.length === 0);
});

await check('presence:typing {room, isTyping} → the room\'s other members with userId and name, on every process; not in the room → forbidden', async () => {
  const { campus } = await f.place(1);
  const room = `campus:${campus.id}`;
  const other = await f2.connect(f2.tok('typing-other'), { transports: ['websocket'] });
  const outsider = await f.connect(f.tok('typing-out'), { transports: ['websocket'] });
  await ack(outsider, 'subscribe:organization', { organizationId: env.ORG_A });
  const user = f.user('typing');
  const s = await f.connect(jwt({ userId: user, organizationId: env.ORG_A, role: 'viewer', name: 'Kim' }), { transports: ['websocket'] });
  for (const x of [other, s]) assert.equal((await ack(x, 'subscribe:campus', { campusId: campus.id })).ok, true);
  assert.deepEqual(await ack(s, 'presence:typing', { room, isTyping: true }), { ok: true });
  const t = await waitFor('presence:typing', () => named(other, 'presence:typing')[0]);
  assert.equal(t.args.length, 1, 'no offset');
  assert.equal(t.args[0].room, room);
  assert.equal(t.args[0].isTyping, true);
  assert.equal(t.args[0].userId, user);
  assert.equal(t.args[0].name, 'Kim');
  await sleep(300);
  assert.deepEqual(named(s, 'presence:typing'), [], 'not echoed');
  assert.deepEqual(named(outsider, 'presence:typing'), [], 'not outside the room');
  assert.deepEqual(await ack(outsider, 'presence:typing', { room, isTyping: true }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await ack(s, 'presence:typing', { room: `user:${user}`, isTyping: true }), { ok: false, error: 'forbidden' });
  assert.deepEqual(await ack(s, 'presence:typing', { room, isTyping: 'yes' }), { ok: false, error: 'bad_request' });
  // /ws too: the sender is a plain WebSocket client
  const w = await f.wsOpen(`?token=${f.tok('typing-ws')}`);
  w.send(JSON.stringify({ event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 1 }));
  await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 1));
  w.send(JSON.stringify({ event: 'presence:typing', data: { room, isTyping: false }, ackId: 2 }));
  await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 2 && m.data.ok === true));
  await waitFor('typing false', () => named(other, 'presence:typing').some((e) => e.args[0].isTyping === false));
  for (const x of [other, outsider, s]) x.close();
  w.close();
});

// A document row as SPEC §10 has it, written straight into the table.
function mkDocument(org, owner, collaborators = []) {
  const id = Number(S.dbValue(`INSERT INTO documents (org_id, owner_id, title, content, created_at, updated_at)
    VALUES ('${org}', '${owner}', 'plan', '{}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3));
    SELECT LAST_INSERT_ID();`));
  for (const u of collaborators) S.db(`INSERT INTO document_collaborators VALUES (${id}, '${u}')`);
  return id;
}

await check('subscribe:document: the owner, a collaborator and an admin of the organization join document:{id}; any other user, another organization\'s admin and a document that does not exist → forbidden', async () => {
  const [owner, collab, stranger] = ['doc-owner', 'doc-collab', 'doc-stranger'].map((w) => f.user(w));
  const doc = mkDocument(env.ORG_A, owner, [collab]);
  const join = async (tok, documentId = doc) => {
    const s = await f.connect(tok, { transports: ['websocket'] });
    const a = await ack(s, 'subscribe:document', { documentId: String(documentId) });
    s.close();
    return a;
  };
  const ok = { ok: true, room: `document:${doc}`, replayed: 0 };
  assert.deepEqual(await join(f.tok('o', { user: owner })), ok, 'owner');
  assert.deepEqual(await join(f.tok('c', { user: collab })), ok, 'collaborator');
  assert.deepEqual(await join(f.tok('a', { role: 'admin' })), ok, 'admin');
  const refused = { ok: false, error: 'forbidden' };
  assert.deepEqual(await join(f.tok('s', { user: stranger, role: 'staff' })), refused, 'not shared with');
  assert.deepEqual(await join(f.tok('b', { org: env.ORG_B, role: 'admin' })), refused, 'another organization');
  assert.deepEqual(await join(f.tok('o', { user: owner }), doc + 1000000), refused, 'no such document');
  assert.deepEqual(await join(f.tok('o', { user: owner }), 'x1'), refused, 'not an id');
});

await check('document:cursor {documentId, line, col} → document:{id}\'s other members on every process, with userId and name, never echoed or replayed; presence:typing there too; not joined → forbidden; bad positions → bad_request', async () => {
  const [owner, collab] = ['cur-owner', 'cur-collab'].map((w) => f.user(w));
  const doc = mkDocument(env.ORG_A, owner, [collab]);
  const room = { documentId: String(doc) };
  const s = await f.connect(jwt({ userId: owner, organizationId: env.ORG_A, role: 'viewer', name: 'Ola' }), { transports: ['websocket'] });
  const peer = await f2.connect(f2.tok('c', { user: collab }), { transports: ['websocket'] });	// the other relay
  const admin = await f.connect(f.tok('cur-admin', { role: 'admin' }));	// polling, then upgrade
  const other = await f.connect(f.tok('cur-other', { role: 'admin' }), { transports: ['websocket'] });
  for (const x of [s, peer, admin]) assert.equal((await ack(x, 'subscribe:document', room)).ok, true);
  const other2 = mkDocument(env.ORG_A, owner);
  assert.equal((await ack(other, 'subscribe:document', { documentId: other2 })).ok, true, 'a number works too');
  const before = lastEventId();
  assert.deepEqual(await ack(s, 'document:cursor', { ...room, line: 3, col: 14 }), { ok: true });
  for (const x of [peer, admin]) {
    const c = await waitFor('document:cursor', () => named(x, 'document:cursor')[0]);
    assert.equal(c.args.length, 1, 'no offset');
    const { documentId, line, col, userId, name } = c.args[0];
    assert.deepEqual({ documentId, line, col, userId, name },
      { documentId: String(doc), line: 3, col: 14, userId: owner, name: 'Ola' });
  }
  await sleep(300);
  assert.deepEqual(named(s, 'document:cursor'), [], 'not echoed');
  assert.deepEqual(named(other, 'document:cursor'), [], 'not in another document\'s room');
  assert.deepEqual(await ack(other, 'document:cursor', { ...room, line: 1, col: 1 }), { ok: false, error: 'forbidden' });
  for (const bad of [{ ...room, line: -1, col: 0 }, { ...room, line: 1 }, { ...room, line: '1', col: 2 },
    { documentId: 'd', line: 1, col: 1 }, { line: 1, col: 1 }])
    assert.deepEqual(await ack(s, 'document:cursor', bad), { ok: false, error: 'bad_request' }, JSON.stringify(bad));
  // a /ws sender (the collaborator): the owner gets it
  const w = await f.wsOpen(`?token=${f.tok('c', { user: collab })}`);
  w.send(JSON.stringify({ event: 'subscribe:document', data: room, ackId: 1 }));
  await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 1 && m.data.ok === true));
  w.send(JSON.stringify({ event: 'document:cursor', data: { ...room, line: 0, col: 7 }, ackId: 2 }));
  await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 2 && m.data.ok === true));
  await waitFor('the /ws cursor at the owner', () => named(s, 'document:cursor').some((e) => e.args[0].col === 7));
  // presence:typing in the document's room
  assert.deepEqual(await ack(s, 'presence:typing', { room: `document:${doc}`, isTyping: true }), { ok: true });
  const t = await waitFor('presence:typing in the document', () => named(peer, 'presence:typing')[0]);
  assert.equal(t.args[0].room, `document:${doc}`);
  assert.equal(t.args[0].userId, owner);
  assert.deepEqual(named(other, 'presence:typing'), [], 'not in another document\'s room');
  // ephemeral: a rejoin with lastEventId replays none of them
  const late = await f.connect(f.tok('c', { user: collab }), { transports: ['websocket'] });
  assert.deepEqual(await ack(late, 'subscribe:document', { ...room, lastEventId: before }),
    { ok: true, room: `document:${doc}`, replayed: 0 });
  await sleep(300);
  assert.deepEqual(named(late, 'document:cursor'), [], 'not replayed');
  assert.deepEqual(named(late, 'presence:typing'), [], 'typing not replayed');
  for (const x of [s, peer, admin, other, late]) x.close();
  w.close();
});

await check('clients that never read (/ws and Socket.IO over WebSocket): disconnected as slow_consumer past relay.send_queue_bytes; the others get every event', async () => {
  const R3 = await startRelay({ conf: env.CIIS_CONF, env: { CIIS_RELAY_SEND_QUEUE_BYTES: '65536' } });
  try {
    const f3 = relayFront({ name: 'slow', url: R3.url, rest: api, S });
    const { campus, b } = await f3.place(1);
    const healthy = await f3.connect(f3.tok('healthy'), { transports: ['websocket'] });
    await ack(healthy, 'subscribe:campus', { campusId: campus.id });
    const w = await f3.wsOpen(`?token=${f3.tok('slow-ws')}`);
    w.send(JSON.stringify({ event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 1 }));
    await waitFor('the ack', () => w.msgs.some((m) => m.ackId === 1));
    const sio = await f3.connect(f3.tok('slow-sio'), { transports: ['websocket'] });
    await ack(sio, 'subscribe:campus', { campusId: campus.id });
    let sioGone = false;
    sio.on('disconnect', () => { sioGone = true; });
    // stop reading: the kernel's buffers fill, then the relay's queue
    w._socket.pause();
    sio.io.engine.transport.ws._socket.pause();
    const slow = () => (R3.log().match(/slow_consumer/g) || []).length;
    const ids = [];
    const description = 'x'.repeat(10000);
    while (slow() < 2 && ids.length < 1500) ids.push((await f3.mkIssue(b.id, { description })).id);
    assert.equal(slow(), 2, `both slow clients named slow_consumer in the log after ${ids.length} issues:\n${R3.log()}`);
    await waitFor('every event on the healthy socket', () => issueEvents(healthy).length === ids.length, 10000);
    assert.deepEqual(issueEvents(healthy).map((e) => String(e.args[0].issue.id)), ids.map(String), 'in order, each once');
    w._socket.resume();
    sio.io.engine.transport.ws._socket.resume();
    const { code } = await w.closed;
    // 1008 when the close frame got out before the drop (close_wait_ms), else 1006
    assert.ok(code === 1008 || code === 1006, `close ${code}`);
    await waitFor('the Socket.IO client disconnected', () => sioGone, 10000);
    const later = await f3.mkIssue(b.id);
    await waitFor('still served', () => issueEvents(healthy).some((e) => String(e.args[0].issue.id) === String(later.id)));
    f3.closeAll();
  } finally {
    await R3.stop();
  }
  assert.equal(R3.sanitizer(), false, R3.log());
});

await check('SIGHUP: the relay reads its configuration file and keys again (relay.max_connections_per_user, jwt.secret)', async () => {
  const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ciis-hup-'));
  const conf = join(dir, 'ciis.conf');
  const base = readFileSync(env.CIIS_CONF, 'utf8');
  writeFileSync(conf, `${base}\nrelay.max_connections_per_user = 1\n`);
  const R4 = await startRelay({ conf });
  try {
    const f4 = relayFront({ name: 'hup', url: R4.url, rest: api, S });
    const who = f4.tok('hup');
    const first = await f4.connect(who, { transports: ['websocket'] });
    assert.equal((await f4.connectError(who, { transports: ['websocket'] }))?.message, 'too_many_connections');
    writeFileSync(conf, `${base}\nrelay.max_connections_per_user = 2\n`);
    R4.proc.kill('SIGHUP');
    await waitFor('the new limit', async () => (await f4.connectError(who, { transports: ['websocket'] })) === null);
    writeFileSync(conf, `${base.replace(/^jwt\.secret = .*$/m, `jwt.secret = ${'ab'.repeat(32)}`)}\nrelay.max_connections_per_user = 2\n`);
    R4.proc.kill('SIGHUP');
    await waitFor('the new key', async () => (await f4.connectError(f4.tok('hup2'), { transports: ['websocket'] }))?.message === 'unauthorized');
    assert.equal(first.connected, true, 'open sockets stay');
    f4.closeAll();
  } finally {
    await R4.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(R4.sanitizer(), false, R4.log());
});

await check('/api/realtime/stats: websocket.connections, users and rooms summed over the relay processes', async () => {
  const stats = async () => (await api('GET', '/api/realtime/stats', { token: T.viewer })).json.websocket;
  await sleep(500);
  const before = await stats();
  const p1 = await f.place(1);
  const p2 = await f.place(1);
  const s = await f.connect(f.tok('stats'), { transports: ['websocket'] });
  const s2 = await f2.connect(f2.tok('stats2'), { transports: ['websocket'] });
  await ack(s, 'subscribe:campus', { campusId: p1.campus.id });
  await ack(s2, 'subscribe:campus', { campusId: p2.campus.id });
  // each socket: its user room and a campus room, on two processes
  const after = await waitFor('the counts', async () => {
    const w = await stats();
    return w.rooms >= before.rooms + 4 && w.connections >= before.connections + 2 && w ;
  });
  assert.ok(after.users >= before.users + 2, JSON.stringify({ before, after }));
  s.close();
  s2.close();
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
f2.closeAll();
await R2.stop();
assert.equal(R2.sanitizer(), false, R2.log());
if (process.exitCode) console.log(R.tail(), R2.tail());
done();
