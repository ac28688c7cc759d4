// Helpers for the relay conformance tests (SOCKETIO-NOTES §9): start
// relay-conformance-server on a free port, talk raw Engine.IO to it (polling
// with fetch, WebSocket with ws), and report one line per check.
//
//   import { startServer, check, done, ... } from './lib/conformance.mjs';
//   const srv = await startServer();
//   await check('name', async () => { ... });
//   await done();
//
// The server is $top_builddir/src/relay/relay-conformance-server (or
// $CIIS_RELAY_CONFORMANCE_BIN); not built → skip (77), or a hard error (99)
// under CI.  It is stopped at exit, also when a check throws or the test is
// interrupted.  Every wait has a timeout, so a hung server fails the check
// (and a watchdog fails the whole test) instead of hanging `make check`.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import assert from 'node:assert/strict';
import { need } from './npm.mjs';

export { assert, need };

const srcdir = process.env.top_srcdir;
const builddir = process.env.top_builddir;
if (!srcdir || !builddir) {
  console.error('ERROR: top_srcdir and top_builddir must be set (make check does)');
  process.exit(99);
}
export const testName = basename(process.argv[1] || 'test').replace(/\.[^.]*$/, '');
export const SERVER_BIN = process.env.CIIS_RELAY_CONFORMANCE_BIN ||
  join(builddir, 'src/relay/relay-conformance-server');

// The server's contract (SOCKETIO-NOTES §9: the upstream suites' settings).
export const PING_INTERVAL = 300;
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1000000;
export const CONNECT_TIMEOUT = 1000;
// Leeway for timers on a loaded machine (2 cores shared by parallel tests).
export const SLACK = 1000;
export const RS = '\x1e';

const WebSocket = need('ws');
export { WebSocket };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// within(promise, ms, what): the promise's value, or an error after ms.
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const show = (v) => {
  if (Buffer.isBuffer(v)) return `<binary ${v.toString('hex')}>`;
  const s = JSON.stringify(v);
  return s && s.length > 300 ? s.slice(0, 300) + '…' : s;
};

// ---- the server ---------------------------------------------------------------

let server = null;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function logTail(lines = 30) {
  if (!server) return '';
  let text = '';
  try { text = readFileSync(server.logFile, 'utf8'); } catch { return ''; }
  return text.split('\n').filter((l) => l.length).slice(-lines).map((l) => `#   ${l}`).join('\n');
}

// At exit (also on a failure or a signal): TERM, up to 3 s, then KILL; sync,
// as an 'exit' handler must be.
function killServer() {
  if (!server || server.exited !== null) return;
  try { server.child.kill('SIGTERM'); } catch { return; }
  const pid = Number(server.child.pid);
  spawnSync('sh', ['-c', `i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL ${pid} 2>/dev/null; :`]);
}
process.on('exit', () => {
  killServer();
  if (server && !process.env.CIIS_KEEP_TMP) rmSync(server.dir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.log(`# interrupted by ${sig}`);
    process.exit(1);
  });
}

// startServer() → {port, base, child, logFile}: started, answering HTTP.
export async function startServer() {
  try {
    accessSync(SERVER_BIN, constants.X_OK);
  } catch {
    if (process.env.CI) {
      console.log(`ERROR: ${SERVER_BIN} has not been built (CI)`);
      process.exit(99);
    }
    console.log(`SKIP: ${SERVER_BIN} has not been built`);
    process.exit(77);
  }
  const dir = mkdtempSync(join(tmpdir(), `ciis-${testName}-`));
  const logFile = join(dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const fd = openSync(logFile, 'a');
    const child = spawn(SERVER_BIN, ['--listen', `127.0.0.1:${port}`], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    server = { child, port, base: `http://127.0.0.1:${port}`, logFile, dir, exited: null };
    const me = server;
    child.on('exit', (code, signal) => { me.exited = { code, signal }; });
    child.on('error', (e) => { me.exited = { error: e.message }; });
    const deadline = Date.now() + 10000;
    while (server.exited === null && Date.now() < deadline) {
      try {
        // A refused handshake (unknown transport): opens no session.
        await fetch(`${server.base}/engine.io/?EIO=4&transport=none`, { signal: AbortSignal.timeout(1000) });
        console.log(`# ${basename(SERVER_BIN)} listening on 127.0.0.1:${port} (pid ${child.pid}, log ${logFile})`);
        return server;
      } catch {
        await sleep(50);
      }
    }
    const why = server.exited ? `exited ${JSON.stringify(server.exited)}` : 'no answer within 10 s';
    const tail = logTail();
    if (server.exited && attempt < 3 && /in use/i.test(tail)) continue; // lost the port race
    killServer();
    console.log(`not ok - ${basename(SERVER_BIN)} --listen 127.0.0.1:${port} starts: ${why}`);
    if (tail) console.log(`# server log:\n${tail}`);
    console.log('# 1 checks, 1 failed');
    process.exit(1);
  }
}

async function stopServer() {
  if (!server || server.exited !== null) return;
  const gone = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  try {
    await within(gone, 5000, 'server exit after SIGTERM');
  } catch {
    console.log('# server did not exit within 5 s of SIGTERM: killed');
    server.child.kill('SIGKILL');
    await within(gone, 5000, 'server exit after SIGKILL').catch(() => {});
  }
}

// ---- checks ---------------------------------------------------------------------

let failed = 0;
let passed = 0;
let cleanups = [];
const lasting = [];
let sharing = 0;
// onCleanup(fn): run fn when the current check ends (close its sockets);
// inside shared(), or outside any check, when the test ends.
export const onCleanup = (fn) => { (sharing ? lasting : cleanups).push(fn); };
// shared(fn): what fn opens outlives the check (for a scenario that several
// checks look at in turn).
export async function shared(fn) {
  sharing++;
  try { return await fn(); } finally { sharing--; }
}

// check(name, async fn, ms): one line per check; a failure (or a check
// running longer than ms) does not stop the test.
export async function check(name, fn, ms = 10000) {
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`check timed out after ${ms} ms`)), ms);
      }),
    ]);
    passed++;
    console.log(`ok - ${name}`);
    return true;
  } catch (e) {
    failed++;
    const msg = (e && e.message ? e.message : String(e)).split('\n').slice(0, 12).join('\n#   ');
    console.log(`not ok - ${name}\n#   ${msg}`);
    if (server && server.exited) console.log(`#   (the server has exited: ${JSON.stringify(server.exited)})`);
    return false;
  } finally {
    clearTimeout(timer);
    const list = cleanups;
    cleanups = [];
    for (const c of list.reverse()) {
      try { await c(); } catch { /* best effort */ }
    }
  }
}

// done(): the server survived every case, stop it, look for sanitizer
// reports in its log, print the summary and exit.
export async function done() {
  for (const c of lasting.splice(0).reverse()) {
    try { await c(); } catch { /* best effort */ }
  }
  if (server) {
    await check('the server is still running after every case', () => {
      assert.equal(server.exited, null, `server exited: ${JSON.stringify(server.exited)}`);
    });
    await stopServer();
    await check('no sanitizer report in the server log', () => {
      let text = '';
      try { text = readFileSync(server.logFile, 'utf8'); } catch { /* none */ }
      const m = /(ERROR: (Address|Leak|Thread|Memory)Sanitizer.*|runtime error:.*)/.exec(text);
      assert.ok(!m, m && m[0]);
    });
    if (failed) {
      const tail = logTail();
      if (tail) console.log(`# server log (last lines):\n${tail}`);
    }
  }
  console.log(`# ${passed + failed} checks, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// A wait left behind by a failed check may time out later: note it, no crash.
process.on('unhandledRejection', (e) => {
  console.log(`# late: ${(e && e.message ? e.message : String(e)).split('\n')[0]}`);
});

// A hung server must not hang `make check`: fail the whole test instead.
const WATCHDOG = Number(process.env.CIIS_CONFORMANCE_WATCHDOG || 60000);
setTimeout(() => {
  console.log(`not ok - the test did not finish within ${WATCHDOG} ms`);
  const tail = logTail();
  if (tail) console.log(`# server log (last lines):\n${tail}`);
  console.log(`# ${passed + failed + 1} checks, ${failed + 1} failed`);
  process.exit(1);
}, WATCHDOG).unref();

// ---- Engine.IO payloads -------------------------------------------------------------

// Packets as strings ("4hello", "2") or Buffers (binary messages: "b"+base64).
export function encodePayload(packets) {
  return packets.map((p) => (typeof p === 'string' ? p : 'b' + Buffer.from(p).toString('base64'))).join(RS);
}
export function decodePayload(text) {
  return text.split(RS).map((p) => (p[0] === 'b' ? Buffer.from(p.slice(1), 'base64') : p));
}

// ---- HTTP ---------------------------------------------------------------------------

let cacheBuster = 0;
export function url(path, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.append(k, v);
  const s = q.toString();
  return `${server.base}${path}${s ? '?' + s : ''}`;
}

// http(method, path, {query, body, headers, timeout, signal}) → {status,
// headers, body (Buffer), text, json}.
export async function http(method, path, opts = {}) {
  const u = url(path, opts.query);
  const timeout = opts.timeout ?? 5000;
  const signals = [AbortSignal.timeout(timeout)];
  if (opts.signal) signals.push(opts.signal);
  let res;
  let buf;
  try {
    res = await fetch(u, {
      method, body: opts.body, headers: opts.headers, redirect: 'manual', signal: AbortSignal.any(signals),
    });
    buf = Buffer.from(await res.arrayBuffer());
  } catch (e) {
    if (opts.signal && opts.signal.aborted) throw e;
    const why = e.name === 'TimeoutError' ? `no answer within ${timeout} ms`
      : `${e.message}${e.cause ? ` (${e.cause.code || e.cause.message})` : ''}`;
    throw new Error(`${method} ${u.replace(server.base, '')}: ${why}`);
  }
  const text = buf.toString('utf8');
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body: buf, text, json, method, url: u.replace(server.base, '') };
}

export const showRes = (r) =>
  `${r.method} ${r.url} → HTTP ${r.status} ${show(r.text.length > 300 ? r.text.slice(0, 300) + '…' : r.text)}`;

const pollQuery = (sid, extra) => ({ EIO: '4', transport: 'polling', t: `c${++cacheBuster}`, sid, ...extra });
// poll(path, sid) / send(path, sid, packets|string): the polling transport.
export const poll = (path, sid, opts = {}) => http('GET', path, { ...opts, query: pollQuery(sid, opts.query) });
export const send = (path, sid, packets, opts = {}) => http('POST', path, {
  ...opts,
  query: pollQuery(sid, opts.query),
  body: typeof packets === 'string' || Buffer.isBuffer(packets) ? packets : encodePayload(packets),
  headers: { 'content-type': 'text/plain;charset=UTF-8', ...(opts.headers || {}) },
});

// assertStatus(res, status, what)
export function assertStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what ? what + ': ' : ''}expected HTTP ${status}, got ${showRes(res)}`);
}

// The open packet: exactly the five keys, the contract's values.
export const OPEN_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];
export function assertOpen(text, upgrades, what = 'open packet') {
  assert.equal(typeof text, 'string', `${what}: expected a text packet, got ${show(text)}`);
  assert.equal(text[0], '0', `${what}: expected "0{…}", got ${show(text)}`);
  let open;
  try { open = JSON.parse(text.slice(1)); } catch { assert.fail(`${what}: not JSON after "0": ${show(text)}`); }
  assert.deepEqual(Object.keys(open).sort(), OPEN_KEYS, `${what} keys: ${text}`);
  assert.equal(typeof open.sid, 'string', `${what}: sid ${show(open.sid)}`);
  assert.ok(open.sid.length > 0, `${what}: empty sid`);
  assert.deepEqual(open.upgrades, upgrades, `${what}: upgrades`);
  assert.equal(open.pingInterval, PING_INTERVAL, `${what}: pingInterval`);
  assert.equal(open.pingTimeout, PING_TIMEOUT, `${what}: pingTimeout`);
  assert.equal(open.maxPayload, MAX_PAYLOAD, `${what}: maxPayload`);
  return open;
}

// handshake(path): a polling session → {sid, open, res}.
export async function handshake(path) {
  const res = await poll(path, undefined);
  assertStatus(res, 200, 'polling handshake');
  const open = assertOpen(res.text, ['websocket'], 'polling open packet');
  return { sid: open.sid, open, res };
}

// assertEioError(res, code, message): 400 (403 for code 4), JSON
// {"code":N,"message":"…"}; code/message compared when given (not null).
export function assertEioError(res, code, message) {
  assertStatus(res, code === 4 ? 403 : 400);
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^application\/json/, `Content-Type "${ct}" (${showRes(res)})`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `body not a JSON object: ${showRes(res)}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['code', 'message'], `error keys: ${showRes(res)}`);
  assert.ok(Number.isInteger(res.json.code) && res.json.code >= 0 && res.json.code <= 5, `code: ${showRes(res)}`);
  assert.equal(typeof res.json.message, 'string', `message: ${showRes(res)}`);
  if (code !== null && code !== undefined) assert.equal(res.json.code, code, `error code: ${showRes(res)}`);
  if (message) assert.equal(res.json.message, message, `error message: ${showRes(res)}`);
}

// assertSessionGone(path, sid): the sid is unknown now → 400 code 1.
export async function assertSessionGone(path, sid, what = 'GET with the old sid') {
  const r = await poll(path, sid, { timeout: 3000 });
  assert.equal(r.status, 400, `${what}: session still open? ${showRes(r)}`);
  assertEioError(r, 1, 'Session ID unknown');
}

// ---- polling as a connection ---------------------------------------------------------

// Polling(path, sid, {autoPong}): keeps one GET pending, answers pings (unless
// autoPong is false), queues every other packet; ends at "1" or an HTTP error.
export class Polling {
  constructor(path, sid, { autoPong = true } = {}) {
    this.path = path;
    this.sid = sid;
    this.autoPong = autoPong;
    this.queue = [];
    this.waiters = [];
    this.pings = 0;
    this.answers = [];
    this.ended = null;
    this.ctrl = new AbortController();
    this.endWaiters = [];
    onCleanup(() => this.stop());
    this.loop();
  }

  async loop() {
    while (!this.ended) {
      let r;
      try {
        r = await poll(this.path, this.sid, { timeout: PING_INTERVAL + PING_TIMEOUT + 3 * SLACK, signal: this.ctrl.signal });
      } catch (e) {
        this.end({ error: e.message });
        return;
      }
      if (r.status !== 200) {
        this.end({ status: r.status, text: r.text });
        return;
      }
      this.answers.push(r.text);
      for (const p of decodePayload(r.text)) {
        if (p === '2' && this.autoPong) {
          this.pings++;
          send(this.path, this.sid, '3').catch(() => {});
        } else if (p === '1') {
          this.end({ close: true });
          return;
        } else {
          this.push(p);
        }
      }
    }
  }

  push(p) {
    const w = this.waiters.shift();
    if (w) w.resolve(p); else this.queue.push(p);
  }

  end(info) {
    if (this.ended) return;
    this.ended = { ...info, at: Date.now() };
    for (const w of this.waiters.splice(0)) w.reject(new Error(`polling ended before a packet came: ${show(this.ended)}`));
    for (const w of this.endWaiters.splice(0)) w(this.ended);
  }

  // next(ms, what): the next packet (string or Buffer).
  next(ms = 3000, what = 'next polling packet') {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.reject(new Error(`${what}: polling ended: ${show(this.ended)}`));
    let w;
    const p = new Promise((resolve, reject) => { w = { resolve, reject }; this.waiters.push(w); });
    return within(p, ms, what).catch((e) => { this.waiters = this.waiters.filter((x) => x !== w); throw e; });
  }

  // expectEnd(ms): the session is closed (GET answered "1" or an error).
  expectEnd(ms, what = 'session closed') {
    if (this.ended) return Promise.resolve(this.ended);
    return within(new Promise((r) => this.endWaiters.push(r)), ms, what)
      .catch((e) => { throw new Error(`${e.message} (still polling; packets: ${show(this.queue)})`); });
  }

  send(packets) { return send(this.path, this.sid, packets); }

  stop() {
    if (!this.ended) this.end({ stopped: true });
    this.ctrl.abort();
  }
}

// ---- WebSocket ------------------------------------------------------------------------

// A raw WebSocket: frames queued as strings (text) or Buffers (binary);
// pings ("2") answered with "3" unless autoPong is false.
export class Ws {
  constructor(ws, { autoPong = true } = {}) {
    this.ws = ws;
    this.autoPong = autoPong;
    this.queue = [];
    this.waiters = [];
    this.pings = [];
    this.closed = null;
    this.closeWaiters = [];
    ws.on('message', (data, isBinary) => {
      const f = isBinary ? Buffer.from(data) : data.toString('utf8');
      if (f === '2' && this.autoPong) {
        this.pings.push(Date.now());
        ws.send('3');
        return;
      }
      const w = this.waiters.shift();
      if (w) w.resolve(f); else this.queue.push(f);
    });
    ws.on('close', (code, reason) => this.onClose({ code, reason: reason.toString() }));
    ws.on('error', (e) => this.onClose({ error: e.message }));
    onCleanup(() => this.terminate());
  }

  onClose(info) {
    if (this.closed) return;
    this.closed = { ...info, at: Date.now() };
    for (const w of this.waiters.splice(0)) w.reject(new Error(`WebSocket closed before a frame came: ${show(this.closed)}`));
    for (const w of this.closeWaiters.splice(0)) w(this.closed);
  }

  // next(ms, what): the next frame (string or Buffer).
  next(ms = 3000, what = 'next WebSocket frame') {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closed) return Promise.reject(new Error(`${what}: WebSocket closed: ${show(this.closed)}`));
    let w;
    const p = new Promise((resolve, reject) => { w = { resolve, reject }; this.waiters.push(w); });
    return within(p, ms, what).catch((e) => { this.waiters = this.waiters.filter((x) => x !== w); throw e; });
  }

  // expectClose(ms, what): resolves when the server has closed the connection.
  expectClose(ms, what = 'WebSocket closed by the server') {
    if (this.closed) return Promise.resolve(this.closed);
    return within(new Promise((r) => this.closeWaiters.push(r)), ms, what)
      .catch((e) => { throw new Error(`${e.message} (still open; unread frames: ${show(this.queue)})`); });
  }

  send(data) {
    assert.equal(this.closed, null, `send ${show(data)}: WebSocket already closed: ${show(this.closed)}`);
    this.ws.send(data);
  }

  terminate() {
    try { this.ws.terminate(); } catch { /* gone */ }
  }
}

// wsConnect(path, query, opts) → {ws: Ws} once open, or {status, text}
// when the server answers the upgrade request without 101; rejects on a
// connection error or timeout.
export function wsConnect(path, query = {}, opts = {}) {
  const u = url(path, { EIO: '4', transport: 'websocket', ...query }).replace(/^http/, 'ws');
  return within(new Promise((resolve, reject) => {
    const raw = new WebSocket(u, { perMessageDeflate: false });
    let settled = false;
    raw.on('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { settled = true; resolve({ status: res.statusCode, text }); });
      res.on('error', () => { settled = true; resolve({ status: res.statusCode, text }); });
    });
    raw.once('open', () => { settled = true; resolve({ ws: new Ws(raw, opts) }); });
    raw.once('error', (e) => { if (!settled) reject(new Error(`WebSocket ${u}: ${e.message}`)); });
    onCleanup(() => { try { raw.terminate(); } catch { /* gone */ } });
  }), 5000, `WebSocket ${u}`);
}

// assertWsRefused(r, what): a wsConnect() result that is no session: no 101,
// or a 101 closed at once with no frame (no open packet).
export async function assertWsRefused(r, what = 'WebSocket') {
  if (!r.ws) {
    assert.ok(r.status >= 400, `${what}: HTTP ${r.status} ${show(r.text)}`);
    return;
  }
  const c = await r.ws.expectClose(SLACK, `${what}: accepted with 101, then closed`);
  assert.deepEqual(r.ws.queue, [], `${what}: accepted with 101 and sent frames before closing (${show(c)})`);
}

// wsSession(path, opts): a WebSocket-only Engine.IO session → {ws, open, sid}.
export async function wsSession(path, opts = {}) {
  const r = await wsConnect(path, {}, opts);
  assert.ok(r.ws, `WebSocket handshake refused: HTTP ${r.status} ${show(r.text)}`);
  const first = await r.ws.next(3000, 'open packet (first frame)');
  const open = assertOpen(first, [], 'WebSocket open packet');
  return { ws: r.ws, open, sid: open.sid };
}

// ---- Socket.IO over a raw WebSocket -------------------------------------------------------

// sioConnect(nsp, payload): a WebSocket-only session with a Socket.IO
// socket connected to nsp → {ws, sid (Socket.IO), eioSid, auth (first event)}.
export async function sioConnect(nsp = '/', payload = '') {
  const { ws, sid: eioSid } = await wsSession('/socket.io/');
  const prefix = nsp === '/' ? '' : `${nsp},`;
  ws.send(`40${prefix}${payload}`);
  const reply = await ws.next(3000, 'CONNECT reply');
  assert.ok(typeof reply === 'string' && reply.startsWith(`40${prefix}{`), `CONNECT reply: ${show(reply)}`);
  const body = JSON.parse(reply.slice(2 + prefix.length));
  assert.equal(typeof body.sid, 'string', `CONNECT reply sid: ${reply}`);
  const auth = await ws.next(3000, 'auth event');
  return { ws, sid: body.sid, eioSid, reply, auth };
}
