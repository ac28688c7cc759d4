// Socket.IO 5 conformance of relay-conformance-server at /socket.io/, in raw
// packets over raw WebSockets (ws) and polling (fetch): CONNECT to `/` and
// `/custom` with and without a payload, DISCONNECT, an unknown namespace,
// invalid handshakes, the connect timeout, events, acks, binary attachments,
// malformed packets (SOCKETIO-NOTES §6, §9).
import {
  startServer, check, done, assert, sleep, show, showRes, poll, send, http, handshake,
  assertEioError, wsSession, sioConnect, Polling, RS, SLACK, CONNECT_TIMEOUT,
} from './lib/conformance.mjs';

const S = '/socket.io/';
await startServer();

const ph = (num) => ({ _placeholder: true, num });
const sidOf = (reply, prefix = '40') => {
  assert.ok(typeof reply === 'string' && reply.startsWith(`${prefix}{`), `CONNECT reply: ${show(reply)}`);
  let body;
  try { body = JSON.parse(reply.slice(prefix.length)); } catch { assert.fail(`CONNECT reply not JSON: ${show(reply)}`); }
  assert.equal(typeof body.sid, 'string', `CONNECT reply sid: ${reply}`);
  assert.ok(body.sid.length > 0, 'empty Socket.IO sid');
  // No connection state recovery here: the reply carries only the sid.
  assert.deepEqual(Object.keys(body), ['sid'], `CONNECT reply keys: ${reply}`);
  return body.sid;
};

// ---- Engine.IO at /socket.io/ ------------------------------------------------------

await check('/socket.io/: polling open packet with the contract settings, upgrades ["websocket"]', async () => {
  await handshake(S);
});
await check('/socket.io/: WebSocket open packet with upgrades []', async () => {
  await wsSession(S);
});
await check('/socket.io/: EIO=3 → 400 {"code":5,"message":"Unsupported protocol version"}', async () => {
  assertEioError(await http('GET', S, { query: { EIO: '3', transport: 'polling' } }), 5, 'Unsupported protocol version');
});
await check('/socket.io/: unknown sid → 400 {"code":1,"message":"Session ID unknown"}', async () => {
  const r = await poll(S, 'no-such-session-AAAA');
  assertEioError(r, 1, 'Session ID unknown');
});

// ---- CONNECT ----------------------------------------------------------------------------

await check('"40" → "40{"sid":…}" (a string, not the Engine.IO sid), then exactly 42["auth",{}]', async () => {
  const { ws, sid: eioSid } = await wsSession(S);
  ws.send('40');
  const sid = sidOf(await ws.next(3000, 'CONNECT reply'));
  assert.notEqual(sid, eioSid, 'the Socket.IO sid is the Engine.IO sid');
  assert.equal(await ws.next(3000, 'auth event'), '42["auth",{}]');
});
await check('"40{"token":"x"}" → "40{"sid":…}", then exactly 42["auth",{"token":"x"}]', async () => {
  const { ws } = await wsSession(S);
  ws.send('40{"token":"x"}');
  sidOf(await ws.next(3000, 'CONNECT reply'));
  assert.equal(await ws.next(3000, 'auth event'), '42["auth",{"token":"x"}]');
});
await check('CONNECT payload with nested values and UTF-8 → the same value in auth', async () => {
  const auth = { token: 'é😀\u2028', n: -1.5, ok: true, none: null, nested: { a: [1, 'b', { c: {} }] } };
  const { ws } = await wsSession(S);
  ws.send(`40${JSON.stringify(auth)}`);
  sidOf(await ws.next(3000, 'CONNECT reply'));
  const f = await ws.next(3000, 'auth event');
  assert.ok(typeof f === 'string' && f.startsWith('42'), show(f));
  assert.deepEqual(JSON.parse(f.slice(2)), ['auth', auth]);
});
await check('"40/custom," → "40/custom,{"sid":…}", then exactly 42/custom,["auth",{}]', async () => {
  const { ws } = await wsSession(S);
  ws.send('40/custom,');
  sidOf(await ws.next(3000, 'CONNECT reply'), '40/custom,');
  assert.equal(await ws.next(3000, 'auth event'), '42/custom,["auth",{}]');
});
await check('"40/custom,{"token":"y"}" → "40/custom,{"sid":…}", then exactly 42/custom,["auth",{"token":"y"}]', async () => {
  const { ws } = await wsSession(S);
  ws.send('40/custom,{"token":"y"}');
  sidOf(await ws.next(3000, 'CONNECT reply'), '40/custom,');
  assert.equal(await ws.next(3000, 'auth event'), '42/custom,["auth",{"token":"y"}]');
});
await check('"/" and "/custom" multiplexed on one Engine.IO session: two sids, events still answered on "/"', async () => {
  const { ws } = await wsSession(S);
  ws.send('40');
  const a = sidOf(await ws.next(3000, 'CONNECT reply /'));
  assert.equal(await ws.next(3000, 'auth /'), '42["auth",{}]');
  ws.send('40/custom,{"k":1}');
  const b = sidOf(await ws.next(3000, 'CONNECT reply /custom'), '40/custom,');
  assert.equal(await ws.next(3000, 'auth /custom'), '42/custom,["auth",{"k":1}]');
  assert.notEqual(a, b);
  ws.send('42["message","m"]');
  assert.equal(await ws.next(3000, 'message-back'), '42["message-back","m"]');
});
await check('"40/random," → exactly 44/random,{"message":"Invalid namespace"}; the session stays usable', async () => {
  const { ws } = await wsSession(S);
  ws.send('40/random,');
  assert.equal(await ws.next(3000, 'CONNECT_ERROR'), '44/random,{"message":"Invalid namespace"}');
  ws.send('40');
  sidOf(await ws.next(3000, 'CONNECT reply after the error'));
  assert.equal(await ws.next(3000, 'auth event'), '42["auth",{}]');
});
await check('"40/random,{"token":"x"}" (with a payload) → exactly 44/random,{"message":"Invalid namespace"}', async () => {
  const { ws } = await wsSession(S);
  ws.send('40/random,{"token":"x"}');
  assert.equal(await ws.next(3000, 'CONNECT_ERROR'), '44/random,{"message":"Invalid namespace"}');
});

// ---- DISCONNECT ----------------------------------------------------------------------------

await check('"41" disconnects "/": the Engine.IO session stays open and "40" connects again with a new sid', async () => {
  const { ws, sid } = await sioConnect('/');
  ws.send('41');
  await sleep(400);
  assert.equal(ws.closed, null, `closed after 41: ${show(ws.closed)}`);
  ws.send('40');
  const again = sidOf(await ws.next(3000, 'second CONNECT reply'));
  assert.notEqual(again, sid, 'the same Socket.IO sid again');
  assert.equal(await ws.next(3000, 'auth event'), '42["auth",{}]');
});
await check('"41/custom," disconnects "/custom" only: "/" keeps answering, "/custom" connects again', async () => {
  const { ws } = await sioConnect('/');
  ws.send('40/custom,');
  sidOf(await ws.next(3000, 'CONNECT reply /custom'), '40/custom,');
  assert.equal(await ws.next(3000, 'auth /custom'), '42/custom,["auth",{}]');
  ws.send('41/custom,');
  ws.send('42["message","after"]');
  assert.equal(await ws.next(3000, 'message-back on /'), '42["message-back","after"]');
  ws.send('40/custom,');
  sidOf(await ws.next(3000, 'CONNECT reply /custom again'), '40/custom,');
  assert.equal(await ws.next(3000, 'auth /custom again'), '42/custom,["auth",{}]');
});
await check('an EVENT on "/" after "41" → the connection is closed', async () => {
  const { ws } = await sioConnect('/');
  ws.send('41');
  await sleep(100);
  ws.send('42["message",1]');
  await ws.expectClose(SLACK);
});

// ---- invalid handshakes, connect timeout ----------------------------------------------------

await check('invalid handshake: CONNECT payload a string (40"x") → the connection is closed', async () => {
  const { ws } = await wsSession(S);
  ws.send('40"x"');
  await ws.expectClose(SLACK);
});
await check('invalid handshake: CONNECT payload an array (40[1]) → the connection is closed', async () => {
  const { ws } = await wsSession(S);
  ws.send('40[1]');
  await ws.expectClose(SLACK);
});
await check('invalid handshake: an EVENT before CONNECT (42["message",1]) → the connection is closed', async () => {
  const { ws } = await wsSession(S);
  ws.send('42["message",1]');
  await ws.expectClose(SLACK);
  assert.deepEqual(ws.queue, [], 'answered the EVENT');
});
await check('WebSocket: no CONNECT within 1 s → the connection is closed (not before ~1 s)', async () => {
  const { ws } = await wsSession(S);
  const t0 = Date.now();
  const c = await ws.expectClose(CONNECT_TIMEOUT + SLACK, 'closed by the connect timeout');
  assert.ok(c.at - t0 >= CONNECT_TIMEOUT - 300, `closed ${c.at - t0} ms after the open`);
});
await check('polling: no CONNECT within 1 s → the session is closed', async () => {
  const { sid } = await handshake(S);
  const t0 = Date.now();
  const p = new Polling(S, sid);
  const e = await p.expectEnd(CONNECT_TIMEOUT + 2 * SLACK, 'session closed by the connect timeout');
  assert.ok(e.close || e.status === 400, `polling ended by ${show(e)}`);
  assert.ok(e.at - t0 >= CONNECT_TIMEOUT - 300, `closed ${e.at - t0} ms after the open`);
});
await check('CONNECT 500 ms after the open → no connect timeout (still open 1.5 s after the open)', async () => {
  const { ws } = await wsSession(S);
  const t0 = Date.now();
  await sleep(CONNECT_TIMEOUT / 2);
  ws.send('40');
  sidOf(await ws.next(3000, 'CONNECT reply'));
  assert.equal(await ws.next(3000, 'auth event'), '42["auth",{}]');
  await sleep(Math.max(0, t0 + CONNECT_TIMEOUT * 1.5 - Date.now()));
  assert.equal(ws.closed, null, `closed: ${show(ws.closed)}`);
  ws.send('42["message","late"]');
  assert.equal(await ws.next(3000, 'message-back'), '42["message-back","late"]');
});

// ---- events and acks -----------------------------------------------------------------------

await check('42["message",1,"two",{"three":3}] → exactly 42["message-back",1,"two",{"three":3}]', async () => {
  const { ws } = await sioConnect('/');
  ws.send('42["message",1,"two",{"three":3}]');
  assert.equal(await ws.next(3000, 'message-back'), '42["message-back",1,"two",{"three":3}]');
});
await check('42["message"] (no arguments) → exactly 42["message-back"]', async () => {
  const { ws } = await sioConnect('/');
  ws.send('42["message"]');
  assert.equal(await ws.next(3000, 'message-back'), '42["message-back"]');
});
await check('42["message",…] with UTF-8, null, nested arrays → the same arguments', async () => {
  const args = ['é😀', null, [1, [2, [3]]], { '': '' }, 0, false];
  const { ws } = await sioConnect('/');
  ws.send(`42${JSON.stringify(['message', ...args])}`);
  const f = await ws.next(3000, 'message-back');
  assert.ok(typeof f === 'string' && f.startsWith('42['), show(f));
  assert.deepEqual(JSON.parse(f.slice(2)), ['message-back', ...args]);
});
await check('421["message-with-ack",1,"2"] → exactly 431[1,"2"]', async () => {
  const { ws } = await sioConnect('/');
  ws.send('421["message-with-ack",1,"2"]');
  assert.equal(await ws.next(3000, 'ACK'), '431[1,"2"]');
});
await check('4212345["message-with-ack"] → exactly 4312345[] (multi-digit id, empty ack)', async () => {
  const { ws } = await sioConnect('/');
  ws.send('4212345["message-with-ack"]');
  assert.equal(await ws.next(3000, 'ACK'), '4312345[]');
});
await check('451-["message",{"_placeholder":true,"num":0}] + <01 02 03> → exactly 451-["message-back",{"_placeholder":true,"num":0}] + the same bytes', async () => {
  const { ws } = await sioConnect('/');
  ws.send('451-["message",{"_placeholder":true,"num":0}]');
  ws.send(Buffer.from([1, 2, 3]));
  assert.equal(await ws.next(3000, 'BINARY_EVENT header'), '451-["message-back",{"_placeholder":true,"num":0}]');
  const b = await ws.next(3000, 'attachment');
  assert.ok(Buffer.isBuffer(b), `attachment is not a binary frame: ${show(b)}`);
  assert.equal(b.toString('hex'), '010203');
});
await check('452- with two attachments (one nested) → 452-["message-back",…] + both, in order', async () => {
  const { ws } = await sioConnect('/');
  ws.send(`452-${JSON.stringify(['message', ph(0), 'x', { deep: [ph(1)] }])}`);
  ws.send(Buffer.from([0xaa]));
  ws.send(Buffer.from([0xbb, 0xcc]));
  const h = await ws.next(3000, 'BINARY_EVENT header');
  assert.ok(typeof h === 'string' && h.startsWith('452-['), `header: ${show(h)}`);
  assert.deepEqual(JSON.parse(h.slice(4)), ['message-back', ph(0), 'x', { deep: [ph(1)] }]);
  const b0 = await ws.next(3000, 'attachment 0');
  const b1 = await ws.next(3000, 'attachment 1');
  assert.ok(Buffer.isBuffer(b0) && Buffer.isBuffer(b1), `${show(b0)} ${show(b1)}`);
  assert.deepEqual([b0.toString('hex'), b1.toString('hex')], ['aa', 'bbcc']);
});
await check('451-7["message-with-ack",{"_placeholder":true,"num":0}] + bytes → exactly 461-7[{"_placeholder":true,"num":0}] + the same bytes', async () => {
  const { ws } = await sioConnect('/');
  ws.send('451-7["message-with-ack",{"_placeholder":true,"num":0}]');
  ws.send(Buffer.from([0, 255]));
  assert.equal(await ws.next(3000, 'BINARY_ACK header'), '461-7[{"_placeholder":true,"num":0}]');
  const b = await ws.next(3000, 'attachment');
  assert.ok(Buffer.isBuffer(b), show(b));
  assert.equal(b.toString('hex'), '00ff');
});

// ---- Socket.IO over polling ------------------------------------------------------------------

await check('polling: POST "40" → GET 40{"sid":…} then 42["auth",{}]', async () => {
  const { sid } = await handshake(S);
  const r = await send(S, sid, '40');
  assert.equal(r.text, 'ok', showRes(r));
  const p = new Polling(S, sid);
  sidOf(await p.next(3000, 'CONNECT reply'));
  assert.equal(await p.next(3000, 'auth event'), '42["auth",{}]');
});
await check('polling: CONNECT with a payload, plain event 42["message",1,"two",{"three":3}] → 42["message-back",1,"two",{"three":3}], ack 421 → 431', async () => {
  const { sid } = await handshake(S);
  await send(S, sid, '40{"token":"p"}');
  const p = new Polling(S, sid);
  sidOf(await p.next(3000, 'CONNECT reply'));
  assert.equal(await p.next(3000, 'auth event'), '42["auth",{"token":"p"}]');
  await send(S, sid, '42["message",1,"two",{"three":3}]');
  assert.equal(await p.next(3000, 'message-back'), '42["message-back",1,"two",{"three":3}]');
  await send(S, sid, '421["message-with-ack",1,"2"]');
  assert.equal(await p.next(3000, 'ACK'), '431[1,"2"]');
});
await check('polling: 451-… + attachment in one POST ("\\x1ebAQID") → 451-["message-back",…] and bAQID back', async () => {
  const { sid } = await handshake(S);
  await send(S, sid, '40');
  const p = new Polling(S, sid);
  sidOf(await p.next(3000, 'CONNECT reply'));
  await p.next(3000, 'auth event');
  const r = await send(S, sid, `451-["message",{"_placeholder":true,"num":0}]${RS}bAQID`);
  assert.equal(r.text, 'ok', showRes(r));
  assert.equal(await p.next(3000, 'BINARY_EVENT header'), '451-["message-back",{"_placeholder":true,"num":0}]');
  const b = await p.next(3000, 'attachment');
  assert.ok(Buffer.isBuffer(b), `attachment not a b-packet: ${show(b)} (answers ${show(p.answers)})`);
  assert.equal(b.toString('hex'), '010203');
});

await check('polling: BINARY_EVENT header and its attachment in two POSTs → reassembled, answered', async () => {
  const { sid } = await handshake(S);
  await send(S, sid, '40');
  const p = new Polling(S, sid);
  sidOf(await p.next(3000, 'CONNECT reply'));
  await p.next(3000, 'auth event');
  assert.equal((await send(S, sid, `452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]${RS}bqg==`)).text, 'ok');
  assert.equal((await send(S, sid, 'bu8w=')).text, 'ok');
  assert.equal(await p.next(3000, 'BINARY_EVENT header'),
    '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  const b0 = await p.next(3000, 'attachment 0');
  const b1 = await p.next(3000, 'attachment 1');
  assert.ok(Buffer.isBuffer(b0) && Buffer.isBuffer(b1), `${show(b0)} ${show(b1)}`);
  assert.deepEqual([b0.toString('hex'), b1.toString('hex')], ['aa', 'bbcc']);
});

// ---- malformed packets → closed --------------------------------------------------------------

const malformed = [
  ['unknown packet type 9', '49'],
  ['unknown packet type 9 with a payload', '49["message",1]'],
  ['bad JSON payload', '42["message",'],
  ['EVENT payload not an array (object)', '42{"message":1}'],
  ['EVENT payload not an array (string)', '42"message"'],
  ['EVENT payload an empty array', '42[]'],
  ['EVENT name not a string', '42[{"a":1},2]'],
  ['ACK id not numeric', '43x[1]'],
  ['ACK payload not an array', '431{"a":1}'],
  ['bad namespace syntax (no comma after the namespace)', '42/custom["message",1]'],
  ['BINARY_EVENT without an attachment count', '45-["message",{"_placeholder":true,"num":0}]'],
  ['BINARY_EVENT with an attachment count of 0', '450-["message"]'],
  ['BINARY_EVENT with a non-numeric attachment count', '45a-["message",{"_placeholder":true,"num":0}]'],
  ['DISCONNECT with a payload', '41{"a":1}'],
  ['CONNECT_ERROR sent by the client', '44{"message":"x"}'],
  ['EVENT named with a reserved name ("connect")', '42["connect"]'],
  ['EVENT to a namespace not connected ("/custom")', '42/custom,["message",1]'],
  ['JSON nested 100000 levels deep', '42' + '['.repeat(100000)],
];
const hexOf = (f) => (Buffer.isBuffer(f) ? `<${f.toString('hex')}>` : JSON.stringify(f));
malformed.push(
  ['a text packet where an attachment is due', '451-["message",{"_placeholder":true,"num":0}]', '42["message",1]'],
  ['a binary frame with no BINARY_EVENT pending', Buffer.from([1, 2, 3])],
  ['a placeholder num beyond the attachments', '451-["message",{"_placeholder":true,"num":5}]', Buffer.from([1])],
);
for (const [what, ...packets] of malformed) {
  await check(`malformed: ${what} (${packets.map(hexOf).join(' + ').slice(0, 80)}) → the connection is closed`, async () => {
    const { ws } = await sioConnect('/');
    ws.send('42["message","before"]');
    assert.equal(await ws.next(3000, 'message-back before'), '42["message-back","before"]');
    for (const p of packets) ws.send(p);
    await ws.expectClose(SLACK, `closed after ${packets.map(hexOf).join(' + ').slice(0, 80)}`);
    assert.deepEqual(ws.queue, [], 'answered the malformed packet');
  });
}

await done();
