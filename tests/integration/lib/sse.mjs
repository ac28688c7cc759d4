// Helpers of the SSE tests (t-sse-node.mjs, t-sse-browser.mjs): a private
// stack with both front ends, a raw SSE reader for wire checks, polling
// with deadlines, and the scenarios both clients run (a client adapter
// hides whether the EventSource lives in node or in Chromium).
//
//   const X = await sseStack();   // X.S = stack.mjs, X.fronts, X.mint(...)
//
// Each test starts a stack of its own (MariaDB, lighttpd running the
// shipped lighttpd/ciis.conf with its ciis-api, and Apache running the
// shipped apache-conf/ciis-proxy-fcgi.conf in front of a second ciis-api
// on the same database), with sse.heartbeat_seconds = 1 given through
// CIIS_SSE_HEARTBEAT_SECONDS: the stream limit counts a user's streams
// over all processes, and heartbeats every second would change what the
// other tests see.  Everything is stopped at exit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import assert from 'node:assert/strict';

const srcdir = process.env.top_srcdir;
const builddir = process.env.top_builddir;
if (!srcdir || !builddir) {
  console.error('ERROR: top_srcdir and top_builddir must be set (make check does)');
  process.exit(99);
}
const libdir = join(srcdir, 'tests/integration/lib');
const libs = `. "${libdir}/common.sh"; . "${libdir}/mariadb.sh"; . "${libdir}/stack.sh"; . "${libdir}/apache.sh";`;
const name = basename(process.argv[1] || 'sse').replace(/\.[^.]*$/, '');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(script, extraEnv = {}) {
  return spawnSync('sh', ['-c', script], {
    env: { ...process.env, ...extraEnv }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180000,
  });
}

export const HEARTBEAT_SECONDS = 1;
const SAN = /AddressSanitizer|LeakSanitizer|runtime error:/;

// sseStack({env}) → {S (the stack.mjs module), dir, fronts: [{name, base}],
// mint, stopFront(name), startFront(name), stopDb()}; env is added to the
// environment the stack is started with (CIIS_TEST_PROXY_IDLE, ...).
export async function sseStack({ env: extra = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `ciis-${name}-`));
  const stackEnv = { CIIS_SSE_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS), CIIS_TEST_STACK: '', ...extra };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    const r = sh(`${libs} trap - EXIT; stop_apache '${dir}'; stop_stack '${dir}'`);
    if (r.status !== 0) process.stdout.write(r.stdout + r.stderr);
    // Both ciis-api logs (lighttpd's stderr, and the Apache one's), after
    // they exited: sanitizer reports, leaks included.
    for (const f of ['lighttpd.log', 'apache-api.log']) {
      const p = join(dir, f);
      if (!existsSync(p)) continue;
      const text = readFileSync(p, 'utf8');
      if (SAN.test(text)) {
        console.log(`not ok - no sanitizer report in ${f}`);
        const i = text.search(SAN);
        console.log(text.slice(Math.max(0, i - 200), i + 3000).replace(/^/gm, '# '));
        process.exitCode = 1;
      } else {
        console.log(`ok - no sanitizer report in ${f}`);
      }
    }
    if (process.exitCode && process.exitCode !== 0) {
      for (const f of ['lighttpd.log', 'apache-api.log', 'apache-error.log']) {
        const p = join(dir, f);
        if (!existsSync(p)) continue;
        const lines = readFileSync(p, 'utf8').trimEnd().split('\n').slice(-25);
        console.log(`# ---- ${f} (last ${lines.length} lines) ----`);
        console.log(lines.map((l) => `# ${l}`).join('\n'));
      }
    }
    if (!process.env.CIIS_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
  console.log(`# private stack with lighttpd and Apache in ${dir}`);
  const r = sh(`${libs} trap - EXIT; start_stack '${dir}' && start_apache '${dir}' &&
    printf "APACHE_URL='%s'\\n" "$APACHE_URL" >> '${dir}/env'`, stackEnv);
  if (r.status !== 0) {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exit(r.status === 77 ? 77 : 99);
  }
  process.env.CIIS_SHARED_STACK = dir;	// stack.mjs then uses this stack
  const S = await import('./stack.mjs');
  const apache = S.env.APACHE_URL.replace(/\/$/, '');
  const fronts = [{ name: 'lighttpd', base: S.BASE }, { name: 'apache', base: apache }];
  const tokenBin = process.env.CIIS_TOKEN_BIN || join(builddir, 'src/tools/ciis-token');
  // mint(user, {org, role, ttl}) → a token from the stack's key.
  const mint = (user, { org = S.env.ORG_A, role = 'viewer', ttl = 3600 } = {}) => {
    const t = spawnSync(tokenBin, ['-c', S.env.CIIS_CONF, '--user', user, '--org', org,
      '--role', role, '--ttl', String(ttl), '--name', `SSE ${user}`], { encoding: 'utf8' });
    if (t.status !== 0 || !/^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(t.stdout.trim())) {
      throw new Error(`ciis-token --user ${user} failed: ${t.stderr}`);
    }
    return t.stdout.trim();
  };
  // stopFront(name) / startFront(name): take one front end away (its open
  // connections drop) and bring it back on the same port.  lighttpd takes
  // its ciis-api with it; Apache's ciis-api stays.
  const stopFront = (which) => {
    const rr = sh(which === 'apache'
      ? `${libs} trap - EXIT; stop_apache_httpd '${dir}'`
      : `${libs} trap - EXIT; stop_lighttpd '${dir}'`, stackEnv);
    if (rr.status !== 0) throw new Error(`stopping ${which} failed: ${rr.stdout}${rr.stderr}`);
  };
  const startFront = (which) => {
    const rr = sh(which === 'apache'
      ? `${libs} trap - EXIT; start_apache '${dir}'`
      : `${libs} trap - EXIT; start_lighttpd '${dir}' && sed -i "s/^LIGHTTPD_PID=.*/LIGHTTPD_PID='$(cat '${dir}/lighttpd.pid')'/" '${dir}/env'`,
    stackEnv);
    if (rr.status !== 0) throw new Error(`starting ${which} failed: ${rr.stdout}${rr.stderr}`);
  };
  const stopDb = () => {
    const rr = sh(`${libs} trap - EXIT; stop_mariadb '${dir}'`);
    if (rr.status !== 0) throw new Error(`stop_mariadb failed: ${rr.stdout}${rr.stderr}`);
  };
  const startDb = () => {	// the same data directory, port and socket
    const rr = sh(`${libs} trap - EXIT; _mdb_launch '${dir}'`);
    if (rr.status !== 0) throw new Error(`starting mariadbd failed: ${rr.stdout}${rr.stderr}`);
  };
  return { S, dir, fronts, mint, stopFront, startFront, stopDb, startDb };
}

// ---- polling -----------------------------------------------------------------

// waitFor(fn, ms, what): poll (async) fn until it returns a truthy value.
export async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

// ---- HTTP through a given front end ----------------------------------------------

export async function feApi(base, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 15000);
  try {
    const res = await fetch(base + path, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: ac.signal,
    });
    const text = await res.text();
    let json;
    try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json, at: Date.now() };
  } finally {
    clearTimeout(timer);
  }
}

// ---- a raw SSE reader (wire checks) ------------------------------------------------

// rawStream(url, {headers, connectMs}) → {status, headers, text, json (non-200),
// lines: every field line in order, msgs: [{id, hasId, data, json, at, retry}],
// ended, endedAt, close()}.  Messages are dispatched at the blank line, as
// an EventSource does; `retry` is the last retry value seen before it.
export async function rawStream(url, { headers = {}, connectMs = 10000 } = {}) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), connectMs);
  let res;
  try {
    res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
  const s = {
    status: res.status, headers: res.headers, text: '', json: undefined, lines: [], msgs: [],
    retries: [], ended: false, endedAt: 0, openedAt: Date.now(), close: () => ac.abort(),
  };
  const ct = res.headers.get('content-type') || '';
  if (res.status !== 200 || !ct.startsWith('text/event-stream')) {
    s.text = await res.text();
    try { s.json = JSON.parse(s.text); } catch { /* stays undefined */ }
    s.ended = true;
    s.endedAt = Date.now();
    return s;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  let cur = { id: undefined, data: [], fields: [] };
  const line = (l) => {
    if (l === '') {
      if (cur.data.length) {
        const data = cur.data.join('\n');
        let json;
        try { json = JSON.parse(data); } catch { json = undefined; }
        s.msgs.push({ id: cur.id, hasId: cur.id !== undefined, data, json, at: Date.now(),
          fields: cur.fields, retry: s.retries[s.retries.length - 1] });
      }
      cur = { id: undefined, data: [], fields: [] };
      return;
    }
    s.lines.push(l);
    if (l.startsWith(':')) return;
    const i = l.indexOf(':');
    const f = i < 0 ? l : l.slice(0, i);
    let v = i < 0 ? '' : l.slice(i + 1);
    if (v.startsWith(' ')) v = v.slice(1);
    cur.fields.push(f);
    if (f === 'data') cur.data.push(v);
    else if (f === 'id') cur.id = v;
    else if (f === 'retry') s.retries.push(v);
  };
  (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let m;
        while ((m = /\r\n|\r|\n/.exec(buf))) {
          line(buf.slice(0, m.index));
          buf = buf.slice(m.index + m[0].length);
        }
      }
    } catch { /* aborted by close() */ }
    s.ended = true;
    s.endedAt = Date.now();
  })();
  return s;
}

// The messages of a stream that are not heartbeats.
export const nonHeartbeat = (msgs) => msgs.filter((m) => (m.json ?? m.data)?.type !== 'heartbeat');

// ---- fixtures ----------------------------------------------------------------------

export const RFC3339MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// The event id of the newest event of `type` for issue `issueId`.
export function eventIdOf(S, type, issueId) {
  const v = S.dbValue(`SELECT MAX(id) FROM events WHERE type = '${type}' AND issue_id = '${issueId}'`);
  assert.ok(v !== null && v !== undefined, `no ${type} event for issue ${issueId}`);
  return Number(v);
}

export function assertInitial(m, what) {
  assert.ok(m, `${what}: no message`);
  assert.equal(m.data.type, 'initial', `${what}: first message ${JSON.stringify(m.data).slice(0, 300)}`);
  assert.equal(typeof m.data.eventId, 'number', `${what}: initial.eventId ${m.data.eventId}`);
  assert.equal(m.lastEventId, String(m.data.eventId), `${what}: id: line of initial`);
  assert.match(String(m.data.timestamp), RFC3339MS, `${what}: initial.timestamp`);
}
