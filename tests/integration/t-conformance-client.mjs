// relay-conformance-server driven by the real socket.io-client 4.8.4 (the
// npm package an unmodified app uses; SPEC §8): default options (polling,
// then the upgrade to WebSocket) and transports: ['websocket']; "/" and
// "/custom" with and without auth, events with plain and binary arguments,
// acks, an unknown namespace, the heartbeat, disconnect.
import {
  startServer, check, done, assert, sleep, within, show, onCleanup, need,
  PING_INTERVAL, PING_TIMEOUT,
} from './lib/conformance.mjs';

const { io, Manager } = need('socket.io-client');
const srv = await startServer();

const WAIT = 5000;
// once(emitter, event, ms): the event's arguments, or an error after ms.
function once(em, ev, ms = WAIT, what = ev) {
  return within(new Promise((resolve) => em.once(ev, (...a) => resolve(a))), ms, what);
}

function client(nsp, opts = {}) {
  const socket = io(srv.base + nsp, { forceNew: true, reconnection: false, timeout: WAIT, ...opts });
  onCleanup(() => { socket.disconnect(); socket.io.engine?.close(); });
  return socket;
}

// connected(socket) → the payload of the `auth` event (listened to before
// the connection completes: the server emits it at once).
async function connected(socket) {
  const auth = once(socket, 'auth', WAIT, 'auth event');
  const err = new Promise((_, rej) => socket.once('connect_error', (e) => rej(new Error(`connect_error: ${e.message}`))));
  auth.catch(() => {});
  err.catch(() => {});
  await Promise.race([once(socket, 'connect', WAIT, 'connect'), err]);
  assert.equal(typeof socket.id, 'string', `socket.id ${show(socket.id)}`);
  const [payload] = await Promise.race([auth, err]);
  return payload;
}

const hex = (b) => Buffer.from(b).toString('hex');
const isBinary = (b) => Buffer.isBuffer(b) || b instanceof ArrayBuffer || ArrayBuffer.isView(b);

const modes = [
  ['default options (polling, then WebSocket)', {}],
  ["transports: ['websocket']", { transports: ['websocket'] }],
];

for (const [mode, opts] of modes) {
  await check(`${mode}: connect to "/" without auth → connect, the auth event carries {}`, async () => {
    const s = client('/', opts);
    assert.deepEqual(await connected(s), {});
    assert.equal(s.connected, true);
  });
  await check(`${mode}: connect to "/" with auth {token, n} → the auth event carries it`, async () => {
    const auth = { token: 'abc.def', n: 1, nested: { u: 'é😀' } };
    const s = client('/', { ...opts, auth });
    assert.deepEqual(await connected(s), auth);
  });
  await check(`${mode}: auth as a function → its value reaches the server`, async () => {
    let calls = 0;
    const s = client('/', { ...opts, auth: (cb) => { calls++; cb({ token: 'from-fn' }); } });
    assert.deepEqual(await connected(s), { token: 'from-fn' });
    assert.equal(calls, 1);
  });
  await check(`${mode}: connect to "/custom" without auth → the auth event carries {}`, async () => {
    const s = client('/custom', opts);
    assert.deepEqual(await connected(s), {});
    assert.equal(s.nsp, '/custom');
  });
  await check(`${mode}: connect to "/custom" with auth → the auth event carries it`, async () => {
    const s = client('/custom', { ...opts, auth: { token: 'custom-token' } });
    assert.deepEqual(await connected(s), { token: 'custom-token' });
  });
  await check(`${mode}: "message" → "message-back" with the same plain arguments`, async () => {
    const s = client('/', opts);
    await connected(s);
    const args = [1, 'two', { three: 3 }, [4, [5]], null, true, 'é😀'];
    const back = once(s, 'message-back', WAIT, 'message-back');
    s.emit('message', ...args);
    assert.deepEqual(await back, args);
  });
  await check(`${mode}: "message" → "message-back" with Buffer arguments (top level and nested) → the same bytes`, async () => {
    const s = client('/', opts);
    await connected(s);
    const back = once(s, 'message-back', WAIT, 'message-back');
    s.emit('message', Buffer.from([1, 2, 3]), 'text', { deep: [Buffer.from([0, 255]), Buffer.alloc(0)] });
    const [a, b, c] = await back;
    assert.ok(isBinary(a), `first argument not binary: ${show(a)}`);
    assert.equal(hex(a), '010203');
    assert.equal(b, 'text');
    assert.ok(c && Array.isArray(c.deep) && c.deep.length === 2, `nested: ${show(c)}`);
    assert.ok(isBinary(c.deep[0]) && isBinary(c.deep[1]), `nested not binary: ${show(c)}`);
    assert.deepEqual([hex(c.deep[0]), hex(c.deep[1])], ['00ff', '']);
  });
  await check(`${mode}: 50 events emitted at once, right after connect → 50 "message-back", in order`, async () => {
    const s = client('/', opts);
    await connected(s);
    const got = [];
    const all = within(new Promise((resolve) => s.on('message-back', (n) => { got.push(n); if (got.length === 50) resolve(); })),
      WAIT, `50 message-back (got ${got.length})`);
    for (let i = 0; i < 50; i++) s.emit('message', i);
    await all;
    assert.deepEqual(got, [...Array(50).keys()]);
  });
  await check(`${mode}: a 300 kB Buffer → "message-back" with the same bytes`, async () => {
    const s = client('/', opts);
    await connected(s);
    const big = Buffer.alloc(300000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const back = once(s, 'message-back', WAIT, 'message-back');
    s.emit('message', big);
    const [b] = await back;
    assert.ok(isBinary(b), `not binary: ${show(b)}`);
    assert.ok(Buffer.from(b).equals(big), `bytes differ (length ${Buffer.from(b).length})`);
  });
  await check(`${mode}: emitWithAck("message-with-ack", value) resolves with the value`, async () => {
    const s = client('/', opts);
    await connected(s);
    assert.deepEqual(await s.timeout(WAIT).emitWithAck('message-with-ack', { a: [1, '2'] }), { a: [1, '2'] });
  });
  await check(`${mode}: "message-with-ack" with several arguments → the ack gets them all`, async () => {
    const s = client('/', opts);
    await connected(s);
    const got = await within(new Promise((resolve) => s.emit('message-with-ack', 1, '2', { three: 3 }, (...a) => resolve(a))),
      WAIT, 'ack');
    assert.deepEqual(got, [1, '2', { three: 3 }]);
  });
  await check(`${mode}: emitWithAck("message-with-ack", Buffer) resolves with the same bytes`, async () => {
    const s = client('/', opts);
    await connected(s);
    const r = await s.timeout(WAIT).emitWithAck('message-with-ack', Buffer.from('bin\x00ary'));
    assert.ok(isBinary(r), `not binary: ${show(r)}`);
    assert.equal(Buffer.from(r).toString('latin1'), 'bin\x00ary');
  });
  await check(`${mode}: unknown namespace "/random" → connect_error "Invalid namespace"`, async () => {
    const s = client('/random', opts);
    const conn = once(s, 'connect', WAIT).then(() => assert.fail('connected to /random'));
    conn.catch(() => {});
    const [err] = await Promise.race([once(s, 'connect_error', WAIT, 'connect_error'), conn]);
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(s.connected, false);
  });
  await check(`${mode}: the connection outlives pingInterval+pingTimeout (server pings, client pongs)`, async () => {
    const s = client('/', opts);
    await connected(s);
    let reason = null;
    s.on('disconnect', (r) => { reason = r; });
    await sleep(2 * (PING_INTERVAL + PING_TIMEOUT) + 200);
    assert.equal(reason, null, `disconnected: ${reason}`);
    assert.equal(s.connected, true);
    const back = once(s, 'message-back', WAIT, 'message-back');
    s.emit('message', 'still');
    assert.deepEqual(await back, ['still']);
  });
  await check(`${mode}: disconnect() → "disconnect" (io client disconnect); connect() again works`, async () => {
    const s = client('/', opts);
    await connected(s);
    const d = once(s, 'disconnect', WAIT, 'disconnect');
    s.disconnect();
    const [reason] = await d;
    assert.equal(reason, 'io client disconnect');
    assert.equal(s.connected, false);
    s.connect();
    assert.deepEqual(await connected(s), {});
    const back = once(s, 'message-back', WAIT, 'message-back');
    s.emit('message', 'again');
    assert.deepEqual(await back, ['again']);
  });
  await check(`${mode}: "/" and "/custom" multiplexed on one Manager (one Engine.IO session)`, async () => {
    const m = new Manager(srv.base, { reconnection: false, timeout: WAIT, ...opts });
    const a = m.socket('/');
    const b = m.socket('/custom', { auth: { token: 'mux' } });
    onCleanup(() => { a.disconnect(); b.disconnect(); m.engine?.close(); });
    const [pa, pb] = await Promise.all([connected(a), connected(b)]);
    assert.deepEqual([pa, pb], [{}, { token: 'mux' }]);
    assert.notEqual(a.id, b.id);
    const back = once(a, 'message-back', WAIT, 'message-back');
    a.emit('message', 'mux');
    assert.deepEqual(await back, ['mux']);
  });
}

await check('default options: starts on polling and really upgrades (engine "upgrade" event, transport.name === "websocket"), events flow after it', async () => {
  const s = client('/', {});
  const first = s.io.engine && s.io.engine.transport ? s.io.engine.transport.name : null;
  const upgraded = once(s.io.engine, 'upgrade', WAIT, 'engine upgrade event');
  upgraded.catch(() => {});
  await connected(s);
  assert.equal(first, 'polling', `first transport ${first}`);
  const [t] = await upgraded;
  assert.equal(t && t.name, 'websocket', `upgraded to ${t && t.name}`);
  assert.equal(s.io.engine.transport.name, 'websocket');
  const back = once(s, 'message-back', WAIT, 'message-back');
  s.emit('message', Buffer.from([7]), 'after-upgrade');
  const [b, txt] = await back;
  assert.equal(hex(b), '07');
  assert.equal(txt, 'after-upgrade');
  assert.equal(s.io.engine.transport.name, 'websocket');
});
await check("transports: ['websocket']: WebSocket from the first request, no upgrade", async () => {
  const s = client('/', { transports: ['websocket'] });
  await connected(s);
  assert.equal(s.io.engine.transport.name, 'websocket');
  await sleep(PING_INTERVAL);
  assert.equal(s.io.engine.transport.name, 'websocket');
});
await check('polling only (transports: ["polling"], upgrade: false): events and binary acks work without WebSocket', async () => {
  const s = client('/', { transports: ['polling'], upgrade: false, auth: { token: 'p' } });
  assert.deepEqual(await connected(s), { token: 'p' });
  assert.equal(s.io.engine.transport.name, 'polling');
  const back = once(s, 'message-back', WAIT, 'message-back');
  s.emit('message', 1, Buffer.from([9, 9]));
  const [n, b] = await back;
  assert.equal(n, 1);
  assert.equal(hex(b), '0909');
  const r = await s.timeout(WAIT).emitWithAck('message-with-ack', Buffer.from([5]));
  assert.equal(hex(r), '05');
  await sleep(PING_INTERVAL + PING_TIMEOUT + 100);
  assert.equal(s.connected, true, 'disconnected while polling');
});

await done();
