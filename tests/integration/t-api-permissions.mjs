// Roles and organizations per endpoint (SPEC §3, §11; doc/api.md "Requests"):
// viewer reads; reporter creates and notes; staff updates, assigns and
// resolves; admin deletes and manages places.  Bad tokens are 401 with
// WWW-Authenticate; another organization's objects are 404, its org
// parameters 403.
import { readFileSync, existsSync } from 'node:fs';
import {
  env, api, check, done, need, assert, assertStatus, assertError, T, uniq, jwt,
  mkCampus, mkBuilding, mkIssue, dbValue,
} from './lib/stack.mjs';

const ROLES = ['viewer', 'reporter', 'staff', 'admin'];
const rank = (r) => ROLES.indexOf(r);

const campus = await mkCampus();
const bldg = await mkBuilding(campus.id);
const probe = await mkIssue(bldg.id);
need(probe, 'fixtures');

// Each endpoint: its minimum role and a function making one request (fresh
// objects where the call changes them) → [response, expected 2xx status].
const endpoints = [
  ['GET campuses', 'viewer', async (t) => [await api('GET', `/api/organizations/${env.ORG_A}/campuses`, { token: t }), 200]],
  ['POST campuses', 'admin', async (t) => [await api('POST', `/api/organizations/${env.ORG_A}/campuses`, { token: t, body: { name: uniq('perm') } }), 201]],
  ['GET buildings', 'viewer', async (t) => [await api('GET', `/api/campuses/${campus.id}/buildings`, { token: t }), 200]],
  ['POST buildings', 'admin', async (t) => [await api('POST', `/api/campuses/${campus.id}/buildings`, { token: t, body: { name: uniq('perm') } }), 201]],
  ['POST issues', 'reporter', async (t) => [await api('POST', '/api/issues', { token: t, body: { title: uniq('perm'), category: 'perm', buildingId: bldg.id } }), 201]],
  ['GET issues', 'viewer', async (t) => [await api('GET', `/api/issues?buildingId=${bldg.id}`, { token: t }), 200]],
  ['GET issue', 'viewer', async (t) => [await api('GET', `/api/issues/${probe.id}`, { token: t }), 200]],
  ['PATCH issue', 'staff', async (t) => { const i = await mkIssue(bldg.id); return [await api('PATCH', `/api/issues/${i.id}`, { token: t, body: { title: 'patched', version: 1 } }), 200]; }],
  ['POST resolve', 'staff', async (t) => { const i = await mkIssue(bldg.id); return [await api('POST', `/api/issues/${i.id}/resolve`, { token: t, body: { resolution: 'done' } }), 200]; }],
  ['POST assign', 'staff', async (t) => { const i = await mkIssue(bldg.id); return [await api('POST', `/api/issues/${i.id}/assign`, { token: t, body: { assigneeId: 'u-fixer' } }), 200]; }],
  ['POST notes', 'reporter', async (t) => [await api('POST', `/api/issues/${probe.id}/notes`, { token: t, body: { notes: 'perm note' } }), 201]],
  ['GET history', 'viewer', async (t) => [await api('GET', `/api/issues/${probe.id}/history`, { token: t }), 200]],
  ['DELETE issue', 'admin', async (t) => { const i = await mkIssue(bldg.id); return [await api('DELETE', `/api/issues/${i.id}`, { token: t }), 204]; }],
  ['GET heatmap', 'viewer', async (t) => [await api('GET', `/api/heatmap?campusId=${campus.id}`, { token: t }), 200]],
];

for (const [name, min, call] of endpoints) {
  await check(`${name}: roles below ${min} → 403, ${min} and above succeed`, async () => {
    for (const role of ROLES) {
      const [r, okStatus] = await call(T[role]);
      if (rank(role) < rank(min)) assertError(r, 403, { what: `${name} as ${role}` });
      else assertStatus(r, okStatus, `${name} as ${role}`);
    }
  });
}

await check('a refused mutation changes nothing (viewer PATCH, reporter resolve/assign, staff DELETE)', async () => {
  const i = await mkIssue(bldg.id);
  const events = dbValue(`SELECT COUNT(*) FROM events WHERE issue_id = ${i.id}`);
  assertError(await api('PATCH', `/api/issues/${i.id}`, { token: T.viewer, body: { title: 'no', version: 1 } }), 403);
  assertError(await api('PATCH', `/api/issues/${i.id}`, { token: T.reporter, body: { title: 'no', version: 1 } }), 403);
  assertError(await api('POST', `/api/issues/${i.id}/resolve`, { token: T.reporter, body: { resolution: 'no' } }), 403);
  assertError(await api('POST', `/api/issues/${i.id}/assign`, { token: T.reporter, body: { assigneeId: 'u' } }), 403);
  assertError(await api('DELETE', `/api/issues/${i.id}`, { token: T.staff }), 403);
  assertError(await api('POST', `/api/issues/${i.id}/notes`, { token: T.viewer, body: { notes: 'no' } }), 403);
  const now = await api('GET', `/api/issues/${i.id}`, { token: T.viewer });
  assert.deepEqual(now.json, i);
  assert.equal(dbValue(`SELECT COUNT(*) FROM events WHERE issue_id = ${i.id}`), events);
});

// ---- 401 --------------------------------------------------------------------
const now = Math.floor(Date.now() / 1000);
const good = { userId: 'u-crafted', sub: 'u-crafted', organizationId: env.ORG_A, role: 'admin' };
const assert401 = (r, what) => {
  assertError(r, 401, { what });
  const wa = r.headers.get('www-authenticate') || '';
  assert.match(wa, /^Bearer\b/i, `${what}: WWW-Authenticate ${JSON.stringify(wa)}`);
};

await check('control: a token crafted with the stack key is accepted (so the 401s below mean something)', async () => {
  assertStatus(await api('GET', '/api/issues?limit=1', { token: jwt(good) }), 200);
  assertStatus(await api('GET', '/api/issues?limit=1', { token: T.viewer }), 200);
});

const badTokens = {
  missing: null,
  garbage: 'garbage',
  expired: T.expired,
  'alg none': jwt(good, { alg: 'none' }),
  'alg none, signature kept': `${jwt(good, { alg: 'none' })}${jwt(good).split('.')[2]}`,
  'wrong key': jwt(good, { secret: 'x'.repeat(40) }),
  'HS512 header': jwt(good, { header: { alg: 'HS512', typ: 'JWT' } }),
  'past exp (crafted)': jwt({ ...good, exp: now - 30 }),
  'no exp': jwt({ ...good, exp: undefined }),
  'future nbf': jwt({ ...good, nbf: now + 3600 }),
  'no organizationId': jwt({ ...good, organizationId: undefined }),
  'no role': jwt({ ...good, role: undefined }),
  'unknown role': jwt({ ...good, role: 'superuser' }),
  'no userId/sub': jwt({ ...good, userId: undefined, sub: undefined }),
  'two segments': jwt(good).split('.').slice(0, 2).join('.'),
  'tampered payload': (() => { const [h, , s] = jwt(good).split('.'); return `${h}.${Buffer.from(JSON.stringify({ ...good, role: 'admin', organizationId: env.ORG_B })).toString('base64url')}.${s}`; })(),
};
for (const [what, token] of Object.entries(badTokens)) {
  await check(`401 + WWW-Authenticate: ${what} token (GET /api/issues)`, async () => {
    assert401(await api('GET', '/api/issues', { token }), what);
  });
}
await check('401: other schemes and malformed Authorization headers', async () => {
  for (const h of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `bearer-${T.viewer}`, `Token ${T.viewer}`]) {
    assert401(await api('GET', '/api/issues', { headers: { authorization: h } }), h.slice(0, 20));
  }
});
await check('401 on every endpoint for missing, garbage, expired and alg-none tokens', async () => {
  for (const [name, , call] of endpoints) {
    for (const what of ['missing', 'garbage', 'expired', 'alg none']) {
      const [r] = await call(badTokens[what]);
      assert401(r, `${name} with ${what} token`);
    }
  }
});
await check('/health needs no token', async () => {
  assertStatus(await api('GET', '/health'), 200);
});

// ---- other organization --------------------------------------------------------
await check("orgB admin: orgA's issue by id → 404 for every issue endpoint; nothing changes", async () => {
  const i = await mkIssue(bldg.id);
  const t = T.bAdmin;
  const calls = [
    ['GET', `/api/issues/${i.id}`],
    ['PATCH', `/api/issues/${i.id}`, { title: 'pwned', version: 1 }],
    ['POST', `/api/issues/${i.id}/resolve`, { resolution: 'pwned' }],
    ['POST', `/api/issues/${i.id}/assign`, { assigneeId: 'u-b' }],
    ['POST', `/api/issues/${i.id}/notes`, { notes: 'pwned' }],
    ['GET', `/api/issues/${i.id}/history`],
    ['DELETE', `/api/issues/${i.id}`],
  ];
  for (const [m, p, body] of calls) assertError(await api(m, p, { token: t, body }), 404, { what: `${m} ${p}` });
  assertError(await api('GET', `/api/issues/${i.id}`, { token: T.bViewer }), 404);
  const still = await api('GET', `/api/issues/${i.id}`, { token: T.viewer });
  assert.deepEqual(still.json, i);
});
await check("orgB admin: orgA's campus buildings → 404; orgA org path → 403", async () => {
  assertError(await api('GET', `/api/campuses/${campus.id}/buildings`, { token: T.bAdmin }), 404);
  assertError(await api('POST', `/api/campuses/${campus.id}/buildings`, { token: T.bAdmin, body: { name: 'x' } }), 404);
  assertError(await api('GET', `/api/organizations/${env.ORG_A}/campuses`, { token: T.bAdmin }), 403);
  assertError(await api('POST', `/api/organizations/${env.ORG_A}/campuses`, { token: T.bAdmin, body: { name: 'x' } }), 403);
});
await check("orgB admin: organizationId=orgA on the heatmap → 403; its own → 200", async () => {
  assertError(await api('GET', `/api/heatmap?organizationId=${env.ORG_A}`, { token: T.bAdmin }), 403);
  assertStatus(await api('GET', `/api/heatmap?organizationId=${env.ORG_B}`, { token: T.bAdmin }), 200);
});
await check("orgB admin: creating an issue in orgA's building → 400 naming buildingId", async () => {
  assertError(await api('POST', '/api/issues', { token: T.bAdmin,
    body: { title: 'x', category: 'plumbing', buildingId: bldg.id } }), 400, { field: 'buildingId' });
});
await check("orgB lists never show orgA's issues (even filtered by orgA's ids)", async () => {
  for (const q of ['', `?campusId=${campus.id}`, `?buildingId=${bldg.id}`, '?limit=200']) {
    const r = await api('GET', `/api/issues${q}`, { token: T.bAdmin });
    assertStatus(r, 200, q);
    for (const i of r.json.items) assert.equal(i.organizationId, env.ORG_B, `leak via ${q}`);
    assert.ok(!r.json.items.some((i) => i.id === probe.id));
  }
  const h = await api('GET', `/api/heatmap?campusId=${campus.id}`, { token: T.bAdmin });
  assertStatus(h, 200);
  assert.deepEqual(h.json.buildings, [], 'orgA buildings in orgB heatmap');
});

// ---- access log ------------------------------------------------------------------
await check('the access log does not record query strings (?token=)', async () => {
  if (env.EXTERNAL === '1' || !existsSync(env.ACCESS_LOG)) return;
  const marker = `SECRETMARK${process.pid}`;
  const ua = `ciis-accesslog-probe-${process.pid}`;
  await api('GET', `/api/issues?limit=1&token=${marker}`, { token: T.viewer, headers: { 'user-agent': ua } });
  // lighttpd buffers the access log; t-zz-teardown checks it again once flushed.
  const deadline = Date.now() + 8000;
  let line;
  while (Date.now() < deadline && !line) {
    line = readFileSync(env.ACCESS_LOG, 'utf8').split('\n').find((l) => l.includes(ua));
    if (!line) await new Promise((r) => setTimeout(r, 250));
  }
  if (!line) { console.log('# access log not flushed yet; t-zz-teardown checks it'); return; }
  assert.ok(line.includes('GET /api/issues '), `access log line: ${line}`);
  assert.ok(!line.includes(marker) && !line.includes('token='), `query string logged: ${line}`);
});

done();
