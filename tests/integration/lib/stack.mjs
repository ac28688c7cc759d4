// Node helpers for the integration tests: find (or start) the stack, call
// the API, look into the database, and report one line per check.
//
//   import { env, api, db, check, done, ... } from './lib/stack.mjs';
//
// The stack is the shared one of t-00-setup.sh (its env file); when that is
// missing or dead (a test run alone after an earlier teardown) a private
// stack is started for this test and stopped when it exits.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
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
const shared = process.env.CIIS_SHARED_STACK || join(builddir, 'tests/integration/stack');
export const testName = basename(process.argv[1] || 'test').replace(/\.[^.]*$/, '');

function parseEnv(file) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

function sh(script, extraEnv = {}) {
  return spawnSync('sh', ['-c', script], {
    env: { ...process.env, ...extraEnv }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function alive(e) {
  if (!e.BASE_URL) return false;
  if (e.EXTERNAL !== '1') {
    try { process.kill(Number(e.LIGHTTPD_PID), 0); } catch { return false; }
  }
  const r = spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '3', '-w', '%{http_code}',
    e.BASE_URL + 'health'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout !== '000';
}

const libs = `. "${libdir}/common.sh"; . "${libdir}/mariadb.sh"; . "${libdir}/stack.sh";`;

function loadStack() {
  const file = join(shared, 'env');
  if (existsSync(file)) {
    const e = parseEnv(file);
    if (alive(e)) return e;
  }
  // Run alone: a private stack, stopped at exit.
  const dir = mkdtempSync(join(tmpdir(), `ciis-${testName}-`));
  console.log(`# shared stack not running: starting a private one in ${dir}`);
  const r = sh(`${libs} trap - EXIT; start_stack '${dir}'`);
  const stop = () => {
    sh(`${libs} trap - EXIT; stop_stack '${dir}'`);
    if (!process.env.CIIS_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  };
  if (r.status !== 0) {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    stop();
    process.exit(r.status === 77 ? 77 : 99);
  }
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
  return parseEnv(join(dir, 'env'));
}

export const env = loadStack();
export const BASE = env.BASE_URL.replace(/\/$/, '');

// ---- HTTP ------------------------------------------------------------------

// api(method, path, {token, body, raw, headers, contentType}) → {status,
// headers, text, json}.  `body` is sent as JSON; `raw` (string/Buffer) as is.
export async function api(method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body;
  if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType !== null) headers['content-type'] = opts.contentType || 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (opts.contentType !== null) headers['content-type'] = opts.contentType || 'application/json';
  }
  const res = await fetch(BASE + path, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json;
  try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

// ---- database ----------------------------------------------------------------

function unescapeBatch(s) {
  return s.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', 0: '\0', '\\': '\\' }[c] ?? c));
}

// db(sql) → array of rows, each an array of strings (null for NULL).
export function db(sql) {
  const args = ['--no-defaults', '-N', '-B', `-u${env.DB_USER}`, `-p${env.DB_PASSWORD}`];
  if (env.DB_SOCKET) args.push(`--socket=${env.DB_SOCKET}`);
  else args.push('-h', env.DB_HOST || '127.0.0.1', '-P', env.DB_PORT || '3306');
  args.push('--default-character-set=utf8mb4', env.DB_NAME, '-e', sql);
  const r = spawnSync('mariadb', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mariadb: ${r.stderr.trim()} (sql: ${sql})`);
  return r.stdout.split('\n').filter((l) => l.length)
    .map((l) => l.split('\t').map((f) => (f === 'NULL' ? null : unescapeBatch(f))));
}
export const dbValue = (sql) => { const r = db(sql); return r.length ? r[0][0] : undefined; };
export const lastEventId = () => Number(dbValue('SELECT COALESCE(MAX(id),0) FROM events'));

// `count` notification:new events for userId, appended as ciis-api appends
// events (the ids taken from event_seq in the same transaction), each with
// `pad` bytes of filler in its payload; the id of the last one.
export function appendNotification(userId, org = env.ORG_A, title = 'test notification', pad = 0, count = 1) {
  const q = (v) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const n = JSON.stringify({ userId, organizationId: org, type: 'test', priority: 'low', title, body: '' });
  const k = Math.max(1, Math.floor(count));
  const filler = pad > 0 ? `',"pad":"', REPEAT('x', ${Number(pad)}), '"',` : '';
  return Number(dbValue(`START TRANSACTION;
    UPDATE event_seq SET last = LAST_INSERT_ID(last + ${k}) WHERE id = 1;
    INSERT INTO events (id, type, org_id, user_id, payload, created_at)
      SELECT LAST_INSERT_ID() - ${k} + seq, 'notification:new', ${q(org)}, ${q(userId)},
             CONCAT('{"notification":', ${q(n)}, ${filler} ',"eventId":', LAST_INSERT_ID() - ${k} + seq, '}'),
             UTC_TIMESTAMP(3)
      FROM seq_1_to_${k};
    COMMIT;
    SELECT LAST_INSERT_ID();`));
}

// Events appended after `since`, parsed: [{id, type, issueId, payload, ...}].
export function eventsSince(since, where = '1') {
  return db(`SELECT id, type, org_id, campus_id, building_id, issue_id, actor_id, payload
             FROM events WHERE id > ${Number(since)} AND (${where}) ORDER BY id`)
    .map(([id, type, orgId, campusId, buildingId, issueId, actorId, payload]) => {
      let p;
      try { p = JSON.parse(payload); } catch { p = { unparsable: payload }; }
      return { id: Number(id), type, orgId, campusId, buildingId, issueId, actorId, payload: p };
    });
}

// ---- tokens -------------------------------------------------------------------

export const b64url = (s) => Buffer.from(s).toString('base64url');
// jwt(claims, {alg, secret, header}): sign HS256 with the stack's key by default.
export function jwt(claims, opts = {}) {
  const header = opts.header || { alg: opts.alg || 'HS256', typ: 'JWT' };
  const now = Math.floor(Date.now() / 1000);
  const body = { iat: now, exp: now + 3600, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`;
  if (header.alg === 'none') return `${input}.`;
  const sig = createHmac('sha256', opts.secret ?? env.JWT_SECRET).update(input).digest('base64url');
  return `${input}.${sig}`;
}

export const T = {
  viewer: env.TOKEN_VIEWER, reporter: env.TOKEN_REPORTER, staff: env.TOKEN_STAFF,
  admin: env.TOKEN_ADMIN, bAdmin: env.TOKEN_B_ADMIN, bViewer: env.TOKEN_B_VIEWER,
  expired: env.TOKEN_EXPIRED,
};

// ---- checks ---------------------------------------------------------------------

let failed = 0;
let passed = 0;
// check(name, async fn): one line per check; a failure does not stop the test.
export async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
    return true;
  } catch (e) {
    failed++;
    const msg = (e && e.message ? e.message : String(e)).split('\n').slice(0, 12).join('\n#   ');
    console.log(`not ok - ${name}\n#   ${msg}`);
    return false;
  }
}
export function done() {
  console.log(`# ${passed + failed} checks, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

// Fail fast when a precondition of the remaining checks does not hold.
export function need(cond, what) {
  if (!cond) {
    failed++;
    console.log(`not ok - precondition: ${what}`);
    done();
    process.exit(1);
  }
}

// ---- assertions ---------------------------------------------------------------------

export { assert };
export const RFC3339MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const assertTime = (v, what) =>
  assert.match(String(v), RFC3339MS, `${what}: ${JSON.stringify(v)} is not RFC 3339 UTC with ms`);

export function show(res) {
  return `HTTP ${res.status} ${res.text.length > 400 ? res.text.slice(0, 400) + '…' : res.text}`;
}
export function assertStatus(res, status, what = '') {
  assert.equal(res.status, status, `${what ? what + ': ' : ''}expected ${status}, got ${show(res)}`);
}

const CODES = {
  400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
  405: 'method_not_allowed', 409: 'conflict', 413: 'payload_too_large',
  415: 'unsupported_media_type', 423: 'locked', 429: 'rate_limited', 503: 'unavailable',
};
// assertError(res, status, {field}): status, exactly {"error":{"code","message"}}
// (plus "conflict" for 409), the §4 code, and the message naming `field`.
export function assertError(res, status, opts = {}) {
  assertStatus(res, status, opts.what);
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${show(res)}`);
  const top = Object.keys(res.json).sort();
  assert.deepEqual(top, status === 409 ? ['conflict', 'error'] : ['error'], `top-level keys: ${show(res)}`);
  assert.deepEqual(Object.keys(res.json.error).sort(), ['code', 'message'], `error keys: ${show(res)}`);
  assert.equal(res.json.error.code, CODES[status], `error code: ${show(res)}`);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0, 'empty error message');
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^application\/json/, `error Content-Type ${ct}`);
  if (opts.field) {
    assert.ok(res.json.error.message.includes(opts.field),
      `message should name "${opts.field}": ${res.json.error.message}`);
  }
}

// ---- fixtures --------------------------------------------------------------------

let seq = 0;
export const uniq = (p = 'x') => `${p}-${testName}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

export async function mkCampus(name = uniq('campus'), token = T.admin, org = env.ORG_A, extra = {}) {
  const r = await api('POST', `/api/organizations/${org}/campuses`, { token, body: { name, ...extra } });
  assertStatus(r, 201, `create campus ${name}`);
  return r.json;
}
export async function mkBuilding(campusId, name = uniq('bldg'), token = T.admin, extra = {}) {
  const r = await api('POST', `/api/campuses/${campusId}/buildings`, { token, body: { name, ...extra } });
  assertStatus(r, 201, `create building ${name}`);
  return r.json;
}
export async function mkIssue(buildingId, fields = {}, token = T.reporter) {
  const r = await api('POST', '/api/issues', {
    token, body: { title: uniq('issue'), category: 'plumbing', buildingId, ...fields },
  });
  assertStatus(r, 201, 'create issue');
  return r.json;
}
// A fresh campus with `n` buildings, all of orgA.
export async function mkPlace(n = 1) {
  const campus = await mkCampus();
  const buildings = [];
  for (let i = 0; i < n; i++) buildings.push(await mkBuilding(campus.id));
  return { campus, buildings, building: buildings[0] };
}
