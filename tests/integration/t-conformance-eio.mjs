// Engine.IO 4 conformance of relay-conformance-server at /engine.io/ (a bare
// echo): handshake errors, the open packet, heartbeat and ping timeout,
// close, polling rules, payload encoding, binary, maxPayload, the upgrade
// (SOCKETIO-NOTES §1-5, §9).  Raw HTTP (fetch) and raw WebSockets (ws).
import {
  startServer, check, done, assert, sleep, within, show, showRes, shared,
  poll, send, http, handshake, assertOpen, assertEioError, assertStatus, assertSessionGone,
  wsConnect, wsSession, assertWsRefused, RS, PING_INTERVAL, PING_TIMEOUT, MAX_PAYLOAD, SLACK,
  url,
} from './lib/conformance.mjs';
import { request } from 'node:http';

const P = '/engine.io/';
await startServer();

// ---- handshake refusals ----------------------------------------------------------

await check('handshake without EIO → 400 JSON {"code":N,"message":…}', async () => {
  assertEioError(await http('GET', P, { query: { transport: 'polling' } }), null);
});
await check('handshake with EIO=abc → 400 JSON {"code":N,"message":…}', async () => {
  assertEioError(await http('GET', P, { query: { EIO: 'abc', transport: 'polling' } }), null);
});
await check('handshake with EIO=3 → 400 {"code":5,"message":"Unsupported protocol version"}', async () => {
  const r = await http('GET', P, { query: { EIO: '3', transport: 'polling' } });
  assertEioError(r, 5, 'Unsupported protocol version');
  assert.equal(r.text, '{"code":5,"message":"Unsupported protocol version"}');
});
await check('handshake with EIO=5 → 400 code 5', async () => {
  assertEioError(await http('GET', P, { query: { EIO: '5', transport: 'polling' } }), 5, 'Unsupported protocol version');
});
await check('handshake with transport=carrier-pigeon → 400 {"code":0,"message":"Transport unknown"}', async () => {
  const r = await http('GET', P, { query: { EIO: '4', transport: 'carrier-pigeon' } });
  assertEioError(r, 0, 'Transport unknown');
  assert.equal(r.text, '{"code":0,"message":"Transport unknown"}');
});
await check('handshake without transport → 400 code 0', async () => {
  assertEioError(await http('GET', P, { query: { EIO: '4' } }), 0, 'Transport unknown');
});
await check('handshake by POST → 400 {"code":2,"message":"Bad handshake method"}', async () => {
  const r = await http('POST', P, {
    query: { EIO: '4', transport: 'polling' }, body: '4hello', headers: { 'content-type': 'text/plain;charset=UTF-8' },
  });
  assertEioError(r, 2, 'Bad handshake method');
  assert.equal(r.text, '{"code":2,"message":"Bad handshake method"}');
});
await check('handshake by PUT → 400 code 2', async () => {
  assertEioError(await http('PUT', P, { query: { EIO: '4', transport: 'polling' }, body: 'x' }), 2, 'Bad handshake method');
});
await check('WebSocket handshake with EIO=3 → refused (no 101, or closed with no open packet)', async () => {
  await assertWsRefused(await wsConnect(P, { EIO: '3' }));
});
await check('WebSocket handshake without EIO → refused', async () => {
  await assertWsRefused(await wsConnect(P, { EIO: undefined }));
});

await check('WebSocket handshake with transport=abc → refused', async () => {
  await assertWsRefused(await wsConnect(P, { transport: 'abc' }));
});
await check('plain GET with transport=websocket (no Upgrade) → 400 JSON error', async () => {
  assertEioError(await http('GET', P, { query: { EIO: '4', transport: 'websocket' } }), null);
});

// ---- the open packet ------------------------------------------------------------------

let first;
await check('polling handshake: 200 text/plain, exactly 0{sid,upgrades:["websocket"],pingInterval:300,pingTimeout:200,maxPayload:1000000}', async () => {
  const r = await poll(P, undefined);
  assertStatus(r, 200);
  const ct = r.headers.get('content-type') || '';
  assert.match(ct, /^text\/plain/i, `Content-Type "${ct}"`);
  assert.ok(!r.text.includes(RS), `more than the open packet: ${show(r.text)}`);
  first = assertOpen(r.text, ['websocket']);
});
await check('handshake with unknown extra query parameters (foo=bar, t=…) → a session as usual', async () => {
  const r = await http('GET', P, { query: { EIO: '4', transport: 'polling', t: 'N8hyd6w', foo: 'bar' } });
  assertStatus(r, 200);
  assertOpen(r.text, ['websocket']);
});
await check('a second handshake gets another sid', async () => {
  const { sid } = await handshake(P);
  assert.ok(first, 'no first session');
  assert.notEqual(sid, first.sid);
});
await check('WebSocket handshake: 101, first frame exactly 0{…} with upgrades [] and the same settings', async () => {
  const { ws, open } = await wsSession(P);
  assert.ok(first && open.sid !== first.sid, 'sid reused');
  ws.send('4after-open');
  assert.equal(await ws.next(2000, 'echo'), '4after-open');
});

// ---- heartbeat ------------------------------------------------------------------------

await check('polling: the server pings with a bare "2" every ~300 ms; answering "3" keeps the session alive past pingInterval+pingTimeout', async () => {
  const { sid } = await handshake(P);
  const t0 = Date.now();
  let last = t0;
  for (let i = 1; i <= 3; i++) {
    const r = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
    assertStatus(r, 200, `GET ${i}`);
    assert.equal(r.text, '2', `GET ${i}: expected the ping "2"`);
    const now = Date.now();
    assert.ok(now - last >= PING_INTERVAL / 2, `ping ${i} came ${now - last} ms after the previous one (interval ${PING_INTERVAL})`);
    last = now;
    const p = await send(P, sid, '3');
    assertStatus(p, 200, `POST pong ${i}`);
    assert.equal(p.text, 'ok', `POST answer: ${showRes(p)}`);
  }
  assert.ok(Date.now() - t0 > PING_INTERVAL + PING_TIMEOUT);
  const r = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assert.equal(r.text, '2', `still alive after ${Date.now() - t0} ms: ${showRes(r)}`);
});

await check('WebSocket: the server pings "2" every ~300 ms; answering "3" keeps the session alive past pingInterval+pingTimeout', async () => {
  const { ws } = await wsSession(P, { autoPong: false });
  const t0 = Date.now();
  let last = t0;
  for (let i = 1; i <= 3; i++) {
    const f = await ws.next(PING_INTERVAL + SLACK, `ping ${i}`);
    assert.equal(f, '2', `frame ${i}`);
    const now = Date.now();
    assert.ok(now - last >= PING_INTERVAL / 2, `ping ${i} came ${now - last} ms after the previous one`);
    last = now;
    ws.send('3');
  }
  ws.send('4alive');
  assert.equal(await ws.next(PING_INTERVAL + SLACK, 'echo'), '4alive');
  assert.equal(ws.closed, null);
});

await check('polling: no pong → session closed within pingTimeout of the ping, then the sid is unknown (400 code 1)', async () => {
  const { sid } = await handshake(P);
  const t0 = Date.now();
  const r1 = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assert.equal(r1.text, '2', `expected the ping: ${showRes(r1)}`);
  const t1 = Date.now();
  const r2 = await poll(P, sid, { timeout: PING_TIMEOUT + 2 * SLACK });
  const t2 = Date.now();
  assert.ok((r2.status === 200 && r2.text === '1') || r2.status === 400,
    `the GET after an unanswered ping: expected "1" (close) or 400, got ${showRes(r2)}`);
  assert.ok(t2 - t1 >= PING_TIMEOUT / 2, `closed ${t2 - t1} ms after the ping: before pingTimeout ${PING_TIMEOUT}`);
  assert.ok(t2 - t1 <= PING_TIMEOUT + SLACK, `closed ${t2 - t1} ms after the ping`);
  assert.ok(t2 - t0 <= PING_INTERVAL + PING_TIMEOUT + SLACK, `closed ${t2 - t0} ms after the handshake`);
  await assertSessionGone(P, sid);
});

await check('WebSocket: no pong → closed within pingTimeout of the ping, then the sid is unknown (400 code 1)', async () => {
  const { ws, sid } = await wsSession(P, { autoPong: false });
  const t0 = Date.now();
  assert.equal(await ws.next(PING_INTERVAL + SLACK, 'ping'), '2');
  const t1 = Date.now();
  const c = await ws.expectClose(PING_TIMEOUT + SLACK, 'closed for want of a pong');
  assert.ok(c.at - t1 >= PING_TIMEOUT / 2, `closed ${c.at - t1} ms after the ping: before pingTimeout`);
  assert.ok(c.at - t0 <= PING_INTERVAL + PING_TIMEOUT + SLACK, `closed ${c.at - t0} ms after the open`);
  assert.deepEqual(ws.queue, [], 'frames after the ping');
  await assertSessionGone(P, sid);
});

// ---- close ------------------------------------------------------------------------------

await check('polling: client sends "1" → POST 200 "ok", the session is closed (sid unknown)', async () => {
  const { sid } = await handshake(P);
  const r = await send(P, sid, '1');
  assertStatus(r, 200);
  assert.equal(r.text, 'ok');
  await assertSessionGone(P, sid);
});
await check('polling: "1" while a GET is pending → that GET is answered "6" at once, the sid is unknown', async () => {
  const { sid } = await handshake(P);
  const pending = poll(P, sid, { timeout: 3000 });
  await sleep(50);
  const t = Date.now();
  const r = await send(P, sid, '1');
  assertStatus(r, 200, 'POST "1"');
  const g = await pending;
  assertStatus(g, 200, 'pending GET');
  assert.equal(g.text, '6', `pending GET: ${showRes(g)}`);
  assert.ok(Date.now() - t < PING_INTERVAL, `pending GET answered ${Date.now() - t} ms after the close`);
  await assertSessionGone(P, sid);
});
await check('WebSocket: client sends "1" → the server closes the WebSocket, the sid is unknown', async () => {
  const { ws, sid } = await wsSession(P);
  ws.send('1');
  await ws.expectClose(SLACK);
  await assertSessionGone(P, sid);
});

// ---- polling rules ------------------------------------------------------------------------

await check('second concurrent polling GET → the first is answered "1", the second 400, the session is closed', async () => {
  const { sid } = await handshake(P);
  // Both GETs well inside the first ping interval.
  const g1 = poll(P, sid, { timeout: 3000 });
  await sleep(60);
  const r2 = await poll(P, sid, { timeout: 3000 });
  const r1 = await g1;
  assert.equal(r1.status, 200, `first GET: ${showRes(r1)}`);
  assert.equal(r1.text, '1', `first GET: ${showRes(r1)}`);
  assert.ok(r2.status === 400 || r2.status === 500, `second GET: ${showRes(r2)}`);
  await assertSessionGone(P, sid);
});

await check('cancelled polling GET (aborted while held) → the session is closed', async () => {
  const { sid } = await handshake(P);
  const ctrl = new AbortController();
  const g = poll(P, sid, { timeout: 3000, signal: ctrl.signal }).catch((e) => e);
  await sleep(60);
  ctrl.abort();
  const e = await g;
  assert.ok(e instanceof Error, `the GET was answered before the abort: ${e && e.status} ${e && show(e.text)}`);
  await sleep(100);
  await assertSessionGone(P, sid, 'GET after the cancelled poll');
});

await check('second concurrent POST (the first one still sending its body) → 400, the session is closed', async () => {
  const { sid } = await handshake(P);
  const u = new URL(url(P, { EIO: '4', transport: 'polling', sid }));
  const first = new Promise((resolve) => {
    const req = request(u, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': '10' },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); res.on('error', () => resolve('error')); });
    req.on('error', (e) => resolve(`error ${e.code || e.message}`));
    req.write('4abc');
    setTimeout(() => { try { req.end('defghi'); } catch { /* closed */ } }, 400);
  });
  await sleep(80);
  const r2 = await send(P, sid, '4second', { timeout: 3000 });
  assert.ok(r2.status === 400 || r2.status === 500, `second POST: ${showRes(r2)}`);
  console.log(`#   first POST → ${await within(first, 3000, 'first POST')}`);
  await assertSessionGone(P, sid);
});

await check('GET with an unknown sid → 400 exactly {"code":1,"message":"Session ID unknown"}', async () => {
  const r = await poll(P, 'no-such-session-AAAA');
  assertEioError(r, 1, 'Session ID unknown');
  assert.equal(r.text, '{"code":1,"message":"Session ID unknown"}');
});
await check('POST with an unknown sid → 400 {"code":1,"message":"Session ID unknown"}', async () => {
  const r = await send(P, 'no-such-session-AAAA', '4hello');
  assertEioError(r, 1, 'Session ID unknown');
  assert.equal(r.text, '{"code":1,"message":"Session ID unknown"}');
});
await check('WebSocket with an unknown sid → refused (no 101, or closed with no frame)', async () => {
  await assertWsRefused(await wsConnect(P, { sid: 'no-such-session-AAAA' }));
});
await check('polling GET with the sid of a WebSocket-only session → 400 JSON error, the WebSocket unaffected', async () => {
  const { ws, sid } = await wsSession(P);
  assertEioError(await poll(P, sid, { timeout: 2000 }), null);
  ws.send('4still');
  assert.equal(await ws.next(2000, 'echo'), '4still');
});
await check('WebSocket: a ping "2" sent by the client (EIO 4: the server pings) → the connection is closed', async () => {
  const { ws } = await wsSession(P);
  ws.send('2');
  await ws.expectClose(SLACK);
});
await check('polling: an invalid Engine.IO packet ("9") → the session is closed', async () => {
  const { sid } = await handshake(P);
  const r = await send(P, sid, '9bogus');
  console.log(`#   POST "9bogus" → HTTP ${r.status} ${show(r.text)}`);
  await sleep(50);
  await assertSessionGone(P, sid);
});

// ---- payloads ---------------------------------------------------------------------------------

await check('several packets in one POST ("4hello\\x1e4\\x1e4héllo 😀") → 200 "ok", all echoed in order', async () => {
  const { sid } = await handshake(P);
  const r = await send(P, sid, ['4hello', '4', '4héllo 😀']);
  assertStatus(r, 200);
  assert.equal(r.text, 'ok');
  const got = [];
  while (got.length < 3) {
    const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
    assertStatus(g, 200, 'GET');
    for (const p of g.text.split(RS)) {
      if (p === '2') await send(P, sid, '3');
      else got.push(p);
    }
  }
  assert.deepEqual(got, ['4hello', '4', '4héllo 😀']);
});
await check('polling GET answers carry Content-Type text/plain', async () => {
  const { sid } = await handshake(P);
  await send(P, sid, '4x');
  const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assertStatus(g, 200);
  assert.match(g.headers.get('content-type') || '', /^text\/plain/i, `Content-Type "${g.headers.get('content-type')}"`);
});

await check('packets queued by separate POSTs → one GET answer joined by \\x1e ("4one\\x1e4two\\x1e4three")', async () => {
  const { sid } = await handshake(P);
  for (const m of ['4one', '4two', '4three']) assert.equal((await send(P, sid, m)).text, 'ok');
  await sleep(20);
  const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assertStatus(g, 200);
  const packets = g.text.split(RS).filter((p) => p !== '2');
  assert.deepEqual(packets, ['4one', '4two', '4three'], `one GET answer: ${show(g.text)}`);
});

await check('binary over polling: POST "bAAEC/w==" → GET "bAAEC/w==" (b + base64, both directions)', async () => {
  const { sid } = await handshake(P);
  assert.equal((await send(P, sid, 'bAAEC/w==')).text, 'ok');
  const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assert.equal(g.text.split(RS).filter((p) => p !== '2').join(RS), 'bAAEC/w==', show(g.text));
});

await check('text and binary mixed in one POST → echoed in order, binary as b + base64', async () => {
  const { sid } = await handshake(P);
  const bytes = Buffer.from([0x34, 0x68, 0x69, 0x00, 0x80, 0xfe]);
  assert.equal((await send(P, sid, ['4text', bytes, '4tail'])).text, 'ok');
  const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  assert.deepEqual(g.text.split(RS).filter((p) => p !== '2'), ['4text', 'b' + bytes.toString('base64'), '4tail'], show(g.text));
});

await check('binary over WebSocket: a binary frame → the same bytes in a binary frame (also bytes that read as "4hi")', async () => {
  const { ws } = await wsSession(P);
  for (const bytes of [Buffer.from([0, 1, 2, 255]), Buffer.from('4hi'), Buffer.alloc(0)]) {
    ws.send(bytes);
    const f = await ws.next(2000, 'binary echo');
    assert.ok(Buffer.isBuffer(f), `expected a binary frame, got text ${show(f)}`);
    assert.equal(f.toString('hex'), bytes.toString('hex'));
  }
});

await check('WebSocket: text messages → one text frame each, in order, UTF-8 intact', async () => {
  const { ws } = await wsSession(P);
  const msgs = ['4a', '4', '4héllo 😀', '4' + 'x'.repeat(100000)];
  for (const m of msgs) ws.send(m);
  for (const m of msgs) {
    const f = await ws.next(3000, 'echo');
    assert.equal(typeof f, 'string', `expected text, got ${show(f)}`);
    assert.equal(f.length, m.length, `frame ${show(f.slice(0, 20))}`);
    assert.equal(f, m);
  }
});

await check('WebSocket: a 200 kB binary frame → echoed whole', async () => {
  const { ws } = await wsSession(P);
  const big = Buffer.alloc(200000, 0xa5);
  big[0] = 0x34;
  big[big.length - 1] = 0;
  ws.send(big);
  const f = await ws.next(5000, 'big binary echo');
  assert.ok(Buffer.isBuffer(f), `text frame ${show(f.slice(0, 20))}`);
  assert.ok(f.equals(big), `echo differs (length ${f.length})`);
});
await check('WebSocket: a message over maxPayload → the server closes the connection', async () => {
  const { ws } = await wsSession(P);
  ws.send('4' + 'a'.repeat(MAX_PAYLOAD + 10));
  const c = await ws.expectClose(3 * SLACK, 'closed after an oversized frame');
  console.log(`#   close ${show(c)}`);
  assert.deepEqual(ws.queue, [], 'the oversized message was echoed');
});

await check('WebSocket: an invalid Engine.IO packet ("9") → the server closes the connection', async () => {
  const { ws } = await wsSession(P);
  ws.send('9bogus');
  await ws.expectClose(SLACK);
});

await check('POST body of maxPayload+1 bytes → 413', async () => {
  const { sid } = await handshake(P);
  const r = await send(P, sid, '4' + 'a'.repeat(MAX_PAYLOAD), { timeout: 8000 });
  assertStatus(r, 413);
});

await check('POST body of exactly maxPayload bytes → 200 "ok", echoed whole', async () => {
  const { sid } = await handshake(P);
  const m = '4' + 'z'.repeat(MAX_PAYLOAD - 1);
  const r = await send(P, sid, m, { timeout: 8000 });
  assertStatus(r, 200);
  assert.equal(r.text, 'ok');
  let got = '';
  for (let i = 0; i < 5 && !got; i++) {
    const g = await poll(P, sid, { timeout: 8000 });
    assertStatus(g, 200);
    got = g.text.split(RS).filter((p) => p !== '2').join(RS);
    if (!got) await send(P, sid, '3');
  }
  assert.equal(got.length, m.length);
  assert.ok(got === m, 'echo differs');
});

// ---- upgrade ---------------------------------------------------------------------------------

await check('upgrade: a message posted before "5" is not lost: its echo comes over the WebSocket after "5"', async () => {
  const { sid } = await handshake(P);
  const r = await wsConnect(P, { sid });
  assert.ok(r.ws, `WebSocket upgrade refused: HTTP ${r.status} ${show(r.text)}`);
  r.ws.send('2probe');
  assert.equal(await r.ws.next(2000, '3probe'), '3probe');
  let released = [];
  for (let i = 0; i < 4 && !released.length; i++) {
    const g = await poll(P, sid, { timeout: PING_INTERVAL + SLACK });
    assertStatus(g, 200, 'GET after the probe');
    const packets = g.text.split(RS);
    if (packets.includes('2')) await send(P, sid, '3');
    released = packets.filter((p) => p !== '2');
  }
  assert.deepEqual(released, ['6'], 'GET after the probe: expected the noop "6"');
  const p = await send(P, sid, '4during-upgrade');
  assertStatus(p, 200, 'POST before "5"');
  await sleep(50);
  r.ws.send('5');
  assert.equal(await r.ws.next(2000, 'the echo over the WebSocket'), '4during-upgrade');
});

let up = null;
await check('upgrade: WebSocket with the sid → 101, "2probe" → "3probe", the pending GET released with "6", "5", then messages ride the WebSocket', async () => {
  const { sid } = await handshake(P);
  let pending = poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  await sleep(30);
  const r = await shared(() => wsConnect(P, { sid }));
  assert.ok(r.ws, `WebSocket upgrade refused: HTTP ${r.status} ${show(r.text)}`);
  const ws = r.ws;
  ws.send('2probe');
  assert.equal(await ws.next(2000, '3probe'), '3probe', 'first frame on the probe WebSocket');
  let released = [];
  for (let i = 0; i < 4 && !released.length; i++) {
    const g = await pending;
    assertStatus(g, 200, 'pending GET');
    const packets = g.text.split(RS);
    if (packets.includes('2')) await send(P, sid, '3');
    released = packets.filter((p) => p !== '2');
    if (!released.length) pending = poll(P, sid, { timeout: PING_INTERVAL + SLACK });
  }
  assert.deepEqual(released, ['6'], 'the pending GET: expected the noop "6"');
  ws.send('5');
  ws.send('4upgraded');
  assert.equal(await ws.next(2000, 'echo over the upgraded WebSocket'), '4upgraded');
  ws.send(Buffer.from([9, 8, 7]));
  const b = await ws.next(2000, 'binary echo');
  assert.ok(Buffer.isBuffer(b) && b.toString('hex') === '090807', show(b));
  up = { sid, ws };
});

await check('after the upgrade: polling GET with the sid → 400', async () => {
  assert.ok(up, 'no upgraded session');
  const r = await poll(P, up.sid, { timeout: 2000 });
  assertEioError(r, null);
});
await check('after the upgrade: polling POST with the sid → 400', async () => {
  assert.ok(up, 'no upgraded session');
  const r = await send(P, up.sid, '4via-polling', { timeout: 2000 });
  assertEioError(r, null);
});
await check('after the upgrade: a second WebSocket with the sid is refused or closed, the first keeps working', async () => {
  assert.ok(up, 'no upgraded session');
  const r = await wsConnect(P, { sid: up.sid });
  if (r.ws) {
    try { r.ws.send('2probe'); } catch { /* closed already */ }
    await r.ws.expectClose(SLACK, 'second WebSocket closed');
    assert.ok(!r.ws.queue.includes('3probe'), 'the second WebSocket was answered "3probe"');
  } else {
    assert.ok(r.status >= 400, `HTTP ${r.status}`);
  }
  assert.equal(up.ws.closed, null, `first WebSocket closed: ${show(up.ws.closed)}`);
  up.ws.send('4still-here');
  assert.equal(await up.ws.next(2000, 'echo on the first WebSocket'), '4still-here');
});
await check('after the upgrade: pings come over the WebSocket and the session outlives pingInterval+pingTimeout', async () => {
  assert.ok(up, 'no upgraded session');
  const n = up.ws.pings.length;
  await sleep(PING_INTERVAL + PING_TIMEOUT + 200);
  assert.ok(up.ws.pings.length > n, `no ping over the WebSocket in ${PING_INTERVAL + PING_TIMEOUT + 200} ms`);
  assert.equal(up.ws.closed, null, `closed: ${show(up.ws.closed)}`);
});

await done();
