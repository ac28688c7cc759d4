// Issues end to end: create, get, list (filters, cursor pages, clamp), PATCH
// (If-Match, version, 409 body, read-only/unknown fields, status moves),
// resolve, assign, notes, history, delete — and for every action, the exact
// events appended in the database (SPEC §5, §6, §11; doc/api.md "Issues").
import {
  env, api, check, done, need, assert, assertStatus, assertError, assertTime, T, uniq,
  mkCampus, mkBuilding, mkIssue, lastEventId, eventsSince, RFC3339MS,
} from './lib/stack.mjs';

const issueKeys = ['assignedTo', 'buildingId', 'campusId', 'category', 'createdAt', 'description',
  'id', 'location', 'organizationId', 'priority', 'reporterId', 'resolution', 'resolvedAt',
  'status', 'title', 'updatedAt', 'version'].sort();
const payloadKeys = {
  'issue:created': ['actorId', 'eventId', 'issue', 'timestamp'],
  'issue:updated': ['actorId', 'changes', 'eventId', 'issue', 'timestamp'],
  'issue:resolved': ['actorId', 'eventId', 'issue', 'resolution', 'timestamp'],
  'issue:assigned': ['actorId', 'assignee', 'eventId', 'issue', 'previousAssignee', 'timestamp'],
  'issue:deleted': ['actorId', 'buildingId', 'campusId', 'eventId', 'issueId', 'organizationId', 'timestamp'],
  'issue:note': ['authorId', 'eventId', 'issueId', 'notes', 'timestamp'],
};

function assertIssueShape(i) {
  assert.deepEqual(Object.keys(i).sort(), issueKeys, 'issue keys');
  for (const k of ['id', 'campusId', 'buildingId']) assert.match(i[k], /^[0-9]+$/, `${k} not a decimal string`);
  assert.equal(typeof i.version, 'number');
  assertTime(i.createdAt, 'createdAt');
  assertTime(i.updatedAt, 'updatedAt');
  if (i.resolvedAt !== null) assertTime(i.resolvedAt, 'resolvedAt');
}

// expectEvents(since, issue, type, opts): exactly one `type` event for the
// issue (plus one heatmap:updated unless opts.heatmap === false) after
// `since`, strictly increasing ids, payloads with eventId and timestamp.
function expectEvents(since, issue, type, opts = {}) {
  const evs = eventsSince(since, `issue_id = ${issue.id} OR building_id = ${issue.buildingId}`);
  const types = evs.map((e) => e.type).sort();
  const want = opts.heatmap === false ? [type] : [type, 'heatmap:updated'].sort();
  assert.deepEqual(types, want, `events after ${type}: ${JSON.stringify(evs.map((e) => [e.id, e.type]))}`);
  for (let k = 1; k < evs.length; k++) assert.ok(evs[k].id > evs[k - 1].id, 'ids not increasing');
  for (const e of evs) {
    assert.equal(e.payload.eventId, e.id, `${e.type}: payload.eventId ${e.payload.eventId} != row id ${e.id}`);
    assert.equal(e.orgId, env.ORG_A, `${e.type}: org_id`);
    if (e.type === 'heatmap:updated') {
      assert.equal(e.payload.organizationId, env.ORG_A);
      assert.equal(String(e.payload.buildingId), issue.buildingId);
      assert.equal(String(e.payload.campusId), issue.campusId);
      assert.ok('changeType' in e.payload, 'heatmap:updated without changeType');
      assertTime(e.payload.timestamp, 'heatmap:updated payload.timestamp');
      assert.equal(e.buildingId, issue.buildingId, 'heatmap:updated building_id');
      continue;
    }
    assert.deepEqual(Object.keys(e.payload).sort(), payloadKeys[type], `${type} payload keys`);
    assertTime(e.payload.timestamp, `${type} payload.timestamp`);
    assert.equal(e.issueId, issue.id, `${type}: issue_id`);
    assert.equal(e.buildingId, issue.buildingId, `${type}: building_id`);
    assert.equal(e.campusId, issue.campusId, `${type}: campus_id`);
    if (opts.actor) assert.equal(e.payload.actorId ?? e.payload.authorId, opts.actor, `${type} actor`);
    if (opts.issue && e.payload.issue) assert.deepEqual(e.payload.issue, opts.issue, `${type} payload.issue`);
  }
  return evs.find((e) => e.type === type);
}
const noEvents = (since, issue) => {
  const evs = eventsSince(since, `issue_id = ${issue.id} OR building_id = ${issue.buildingId}`);
  assert.deepEqual(evs.map((e) => e.type), [], 'no event expected');
};

async function patch(issue, body, { version, token = T.staff, ifMatch } = {}) {
  const headers = {};
  if (ifMatch !== undefined) headers['if-match'] = ifMatch;
  else if (version !== undefined) headers['if-match'] = String(version);
  return api('PATCH', `/api/issues/${issue.id}`, { token, body, headers });
}
const get = async (id, token = T.viewer) => api('GET', `/api/issues/${id}`, { token });

// ---- places --------------------------------------------------------------
const campus = await mkCampus();
const b1 = await mkBuilding(campus.id);
const b2 = await mkBuilding(campus.id);
need(campus && b1 && b2, 'campus and buildings');

// ---- create --------------------------------------------------------------
let X;
await check('POST /api/issues → 201 with the SPEC §5 issue (version 1, open, ids strings, ms times)', async () => {
  const before = lastEventId();
  const t0 = Date.now();
  const body = {
    title: 'Leak in room 201', description: 'Water under the sink', category: 'plumbing',
    priority: 'high', buildingId: b1.id, campusId: campus.id,
    location: { floor: '2', room: '201', lat: 52.2053, lng: 0.1218 },
  };
  const r = await api('POST', '/api/issues', { token: T.reporter, body });
  assertStatus(r, 201);
  const i = r.json;
  assertIssueShape(i);
  assert.equal(i.organizationId, env.ORG_A);
  assert.equal(i.campusId, campus.id);
  assert.equal(i.buildingId, b1.id);
  assert.equal(i.title, body.title);
  assert.equal(i.description, body.description);
  assert.equal(i.category, 'plumbing');
  assert.equal(i.priority, 'high');
  assert.equal(i.status, 'open');
  assert.equal(i.reporterId, env.USER_REPORTER);
  assert.equal(i.assignedTo, null);
  assert.deepEqual(i.location, body.location);
  assert.equal(i.resolution, null);
  assert.equal(i.version, 1);
  assert.equal(i.resolvedAt, null);
  assert.equal(i.createdAt, i.updatedAt);
  assert.ok(Math.abs(Date.parse(i.createdAt) - t0) < 60000, `createdAt ${i.createdAt} far from now`);
  assert.equal(r.headers.get('etag'), '"1"', 'ETag of the created issue');
  X = i;
  const ev = expectEvents(before, i, 'issue:created', { actor: env.USER_REPORTER, issue: i });
  assert.ok(ev.id > before);
});
need(X, 'an issue could be created');

await check('create defaults: priority medium, description "", campusId from the building', async () => {
  const r = await api('POST', '/api/issues',
    { token: T.reporter, body: { title: uniq('min'), category: 'electrical', buildingId: b2.id } });
  assertStatus(r, 201);
  assertIssueShape(r.json);
  assert.equal(r.json.priority, 'medium');
  assert.equal(r.json.description, '');
  assert.equal(r.json.campusId, campus.id);
  assert.equal(r.json.buildingId, b2.id);
});

await check('create: campusId that is not the building\'s campus → 400 naming campusId', async () => {
  const other = await mkCampus();
  assertError(await api('POST', '/api/issues', { token: T.reporter,
    body: { title: 'x', category: 'plumbing', buildingId: b1.id, campusId: other.id } }), 400, { field: 'campusId' });
});

await check('create: unknown buildingId → 400 naming buildingId', async () => {
  assertError(await api('POST', '/api/issues', { token: T.reporter,
    body: { title: 'x', category: 'plumbing', buildingId: '999999999' } }), 400, { field: 'buildingId' });
});

// ---- get -----------------------------------------------------------------
await check('GET /api/issues/{id} → the same issue, ETag "1"', async () => {
  const r = await get(X.id);
  assertStatus(r, 200);
  assert.deepEqual(r.json, X);
  assert.equal(r.headers.get('etag'), '"1"');
});
await check('GET of an unknown or non-numeric id → 404', async () => {
  for (const id of ['999999999999', 'abc', '12abc']) assertError(await get(id), 404, { what: id });
});

// ---- list: filters ------------------------------------------------------------
const c2 = await mkCampus();
const b3 = await mkBuilding(c2.id);
const b4 = await mkBuilding(c2.id);
const L = {};
await check('fixtures for the list filters', async () => {
  L.a = await mkIssue(b3.id, { priority: 'low', category: 'electrical' });
  L.b = await mkIssue(b3.id, { priority: 'high', category: 'plumbing' });
  L.c = await mkIssue(b4.id, { priority: 'critical', category: 'hvac' });
  L.d = await mkIssue(b4.id, { priority: 'medium', category: 'plumbing' });
  L.e = await mkIssue(b4.id, { priority: 'low', category: 'electrical' });
  assertStatus(await api('POST', `/api/issues/${L.d.id}/assign`,
    { token: T.staff, body: { assigneeId: 'u-fixer' } }), 200, 'assign d');
  assertStatus(await api('POST', `/api/issues/${L.e.id}/resolve`,
    { token: T.staff, body: { resolution: 'done' } }), 200, 'resolve e');
});
const names = (items) => items.map((i) => Object.keys(L).find((k) => L[k].id === i.id) || `?${i.id}`);
async function list(q, token = T.viewer) {
  const r = await api('GET', `/api/issues?${q}`, { token });
  assertStatus(r, 200, q);
  assert.deepEqual(Object.keys(r.json).sort(), ['items', 'nextCursor'], q);
  return r.json;
}
const filterCases = [
  [`campusId=${c2.id}`, ['e', 'd', 'c', 'b', 'a']],
  [`buildingId=${b3.id}`, ['b', 'a']],
  [`buildingId=${b3.id},${b4.id}`, ['e', 'd', 'c', 'b', 'a']],
  [`campusId=${c2.id}&status=open`, ['c', 'b', 'a']],
  [`campusId=${c2.id}&status=assigned,resolved`, ['e', 'd']],
  [`campusId=${c2.id}&priority=low`, ['e', 'a']],
  [`campusId=${c2.id}&priority=high,critical`, ['c', 'b']],
  [`campusId=${c2.id}&category=plumbing`, ['d', 'b']],
  [`campusId=${c2.id}&category=plumbing,hvac`, ['d', 'c', 'b']],
  [`campusId=${c2.id}&assignedTo=u-fixer`, ['d']],
  [`campusId=${c2.id}&assignedTo=u-fixer,u-nobody`, ['d']],
  [`buildingId=${b4.id}&priority=low`, ['e']],
  [`buildingId=${b4.id}&status=open&category=hvac&priority=critical`, ['c']],
  [`campusId=${c2.id},${campus.id}&buildingId=${b3.id}`, ['b', 'a']],
  [`campusId=${c2.id}&status=closed`, []],
];
for (const [q, want] of filterCases) {
  await check(`list ${q.replace(/[0-9]{2,}/g, '#')} → ${want.join(',') || 'none'} (newest first)`, async () => {
    const r = await list(q);
    assert.deepEqual(names(r.items), want);
    assert.equal(r.nextCursor, null);
    for (const i of r.items) assertIssueShape(i);
  });
}
await check('a foreign (orgB) campus id as filter matches nothing', async () => {
  const bc = await mkCampus(uniq('B'), T.bAdmin, env.ORG_B);
  const r = await list(`campusId=${bc.id}`);
  assert.deepEqual(r.items, []);
});
await check('list items equal GET of each issue', async () => {
  const r = await list(`campusId=${c2.id}`);
  for (const i of r.items) assert.deepEqual(i, (await get(i.id)).json);
});

// ---- list: cursor pages ------------------------------------------------------------
await check('cursor pages (limit=2): newest first, no duplicates, no gaps, a newer issue does not shift pages', async () => {
  const p1 = await list(`campusId=${c2.id}&limit=2`);
  assert.deepEqual(names(p1.items), ['e', 'd']);
  assert.equal(typeof p1.nextCursor, 'string');
  L.f = await mkIssue(b3.id, { priority: 'low' });	// newer than all: must not appear below
  const p2 = await list(`campusId=${c2.id}&limit=2&cursor=${encodeURIComponent(p1.nextCursor)}`);
  assert.deepEqual(names(p2.items), ['c', 'b']);
  const p3 = await list(`campusId=${c2.id}&limit=2&cursor=${encodeURIComponent(p2.nextCursor)}`);
  assert.deepEqual(names(p3.items), ['a']);
  assert.equal(p3.nextCursor, null);
  const again = await list(`campusId=${c2.id}&limit=2`);
  assert.deepEqual(names(again.items), ['f', 'e']);
});
await check('cursor pages with a filter (status=open&limit=1)', async () => {
  const got = [];
  let cur = null;
  for (let n = 0; n < 10; n++) {
    const r = await list(`campusId=${c2.id}&status=open&limit=1${cur ? `&cursor=${encodeURIComponent(cur)}` : ''}`);
    got.push(...names(r.items));
    cur = r.nextCursor;
    if (!cur) break;
  }
  assert.deepEqual(got, ['f', 'c', 'b', 'a']);
});

await check('limit: default 50, 200 max, 201 and 1000 clamped to 200 (205 issues)', async () => {
  const cc = await mkCampus();
  const bb = await mkBuilding(cc.id);
  const ids = [];
  for (let k = 0; k < 205; k += 15) {
    const batch = [];
    for (let j = k; j < Math.min(k + 15, 205); j++) {
      batch.push(api('POST', '/api/issues', { token: T.reporter,
        body: { title: `bulk ${j}`, category: 'bulk', buildingId: bb.id } }));
    }
    for (const r of await Promise.all(batch)) { assertStatus(r, 201, 'bulk create'); ids.push(r.json.id); }
  }
  const q = `buildingId=${bb.id}`;
  assert.equal((await list(q)).items.length, 50, 'default limit');
  assert.equal((await list(`${q}&limit=200`)).items.length, 200);
  for (const lim of [201, 1000]) {
    const r = await list(`${q}&limit=${lim}`);
    assert.equal(r.items.length, 200, `limit=${lim}`);
    assert.equal(typeof r.nextCursor, 'string');
    const rest = await list(`${q}&limit=${lim}&cursor=${encodeURIComponent(r.nextCursor)}`);
    assert.equal(rest.items.length, 5);
    assert.equal(rest.nextCursor, null);
    const all = [...r.items, ...rest.items].map((i) => i.id);
    assert.equal(new Set(all).size, 205);
    const sorted = [...ids].sort((x, y) => (BigInt(y) > BigInt(x) ? 1 : -1));
    assert.deepEqual(all, sorted, 'not newest first');
  }
});

// ---- PATCH ---------------------------------------------------------------
let cur = X;
await check('PATCH with If-Match: 1 (bare) → 200, version 2, ETag "2", issue:updated with changes', async () => {
  const before = lastEventId();
  const r = await patch(cur, { title: 'Leak in room 201 (big)' }, { ifMatch: '1' });
  assertStatus(r, 200);
  assertIssueShape(r.json);
  assert.equal(r.json.version, 2);
  assert.equal(r.json.title, 'Leak in room 201 (big)');
  assert.equal(r.headers.get('etag'), '"2"');
  assert.ok(Date.parse(r.json.updatedAt) >= Date.parse(cur.updatedAt));
  assert.equal(r.json.createdAt, cur.createdAt);
  const ev = expectEvents(before, r.json, 'issue:updated', { actor: env.USER_STAFF, issue: r.json });
  assert.deepEqual(ev.payload.changes, { title: { from: 'Leak in room 201', to: 'Leak in room 201 (big)' } });
  cur = r.json;
});
await check('PATCH with If-Match: "2" (quoted) → 200, version 3', async () => {
  const before = lastEventId();
  const r = await patch(cur, { priority: 'critical' }, { ifMatch: '"2"' });
  assertStatus(r, 200);
  assert.equal(r.json.version, 3);
  assert.equal(r.json.priority, 'critical');
  const ev = expectEvents(before, r.json, 'issue:updated');
  assert.deepEqual(ev.payload.changes, { priority: { from: 'high', to: 'critical' } });
  cur = r.json;
});
await check('PATCH with "version" in the body → 200, version 4', async () => {
  const before = lastEventId();
  const r = await patch(cur, { description: 'Now a flood', version: 3 });
  assertStatus(r, 200);
  assert.equal(r.json.version, 4);
  assert.equal(r.json.description, 'Now a flood');
  expectEvents(before, r.json, 'issue:updated');
  cur = r.json;
});
await check('PATCH location (replaced whole) and category', async () => {
  const before = lastEventId();
  const r = await patch(cur, { location: { floor: '3' }, category: 'water-damage' }, { version: 4 });
  assertStatus(r, 200);
  assert.equal(r.json.version, 5);
  assert.equal(r.json.category, 'water-damage');
  assert.equal(r.json.location.floor, '3');
  assert.ok(r.json.location.room === undefined || r.json.location.room === null, 'room not cleared');
  const ev = expectEvents(before, r.json, 'issue:updated');
  assert.deepEqual(Object.keys(ev.payload.changes).sort(), ['category', 'location']);
  cur = r.json;
});
await check('stale If-Match → 409 with the exact conflict body; nothing changes', async () => {
  const before = lastEventId();
  const r = await patch(cur, { priority: 'low', title: 'stale title' }, { ifMatch: '2' });
  assertError(r, 409);
  const c = r.json.conflict;
  assert.deepEqual(Object.keys(c).sort(), ['conflictedFields', 'current', 'currentVersion', 'yourVersion']);
  assert.equal(c.currentVersion, 5);
  assert.equal(c.yourVersion, 2);
  assert.deepEqual(c.conflictedFields, ['priority'], 'priority changed after v2, the title did not');
  assert.deepEqual(c.current, cur);
  assert.deepEqual((await get(cur.id)).json, cur);
  noEvents(before, cur);
});
await check('stale body version 1 → 409, conflictedFields = fields changed since', async () => {
  const r = await patch(cur, { title: 'x', description: 'y', status: 'in_progress', version: 1 });
  assertError(r, 409);
  assert.equal(r.json.conflict.yourVersion, 1);
  assert.deepEqual([...r.json.conflict.conflictedFields].sort(), ['description', 'title']);
});
await check('PATCH without a version → 400 naming version', async () => {
  assertError(await patch(cur, { title: 'no version' }), 400, { field: 'version' });
});
await check('If-Match and body version that differ → 400 naming version', async () => {
  assertError(await patch(cur, { title: 'both', version: 4 }, { ifMatch: '5' }), 400, { field: 'version' });
});
await check('bad If-Match values → 400 naming version (or 409)', async () => {
  for (const v of ['abc', 'W/"5"x', '']) {
    const r = await patch(cur, { title: 'bad' }, { ifMatch: v });
    assert.ok([400, 409].includes(r.status), `If-Match ${JSON.stringify(v)}: ${r.status}`);
  }
});
for (const field of ['id', 'organizationId', 'reporterId', 'createdAt', 'updatedAt', 'resolvedAt',
  'buildingId', 'campusId', 'assignedTo', 'resolution']) {
  await check(`PATCH read-only ${field} → 400 naming it`, async () => {
    const val = field.endsWith('At') ? '2026-01-01T00:00:00.000Z' : '1';
    assertError(await patch(cur, { [field]: val }, { version: cur.version }), 400, { field });
  });
}
await check('PATCH unknown field → 400 naming it', async () => {
  assertError(await patch(cur, { title: 'ok', flavour: 'salty' }, { version: cur.version }), 400, { field: 'flavour' });
});
await check('PATCH bad values → 400 naming the field', async () => {
  for (const [body, field] of [[{ priority: 'urgent' }, 'priority'], [{ category: 'Bad Cat' }, 'category'],
    [{ title: '' }, 'title'], [{ status: 'bogus' }, 'status'], [{ title: 7 }, 'title']]) {
    assertError(await patch(cur, body, { version: cur.version }), 400, { field, what: JSON.stringify(body) });
  }
});
await check('a PATCH that changes nothing → 200, same version, no event', async () => {
  const before = lastEventId();
  const r = await patch(cur, { title: cur.title, priority: cur.priority }, { version: cur.version });
  assertStatus(r, 200);
  assert.equal(r.json.version, cur.version);
  assert.deepEqual(r.json, cur);
  noEvents(before, cur);
});

// ---- status moves (doc/api.md table) ----------------------------------------------
async function move(issue, to, expect) {
  const before = lastEventId();
  const r = await patch(issue, { status: to }, { version: issue.version });
  if (expect === 200) {
    assertStatus(r, 200, `${issue.status} → ${to}`);
    assert.equal(r.json.status, to);
    assert.equal(r.json.version, issue.version + 1);
    expectEvents(before, r.json, 'issue:updated');
    return r.json;
  }
  assertError(r, 400, { field: 'status', what: `${issue.status} → ${to}` });
  noEvents(before, issue);
  return issue;
}
await check('status moves without an assignee: allowed and refused per doc/api.md', async () => {
  let s = await mkIssue(b1.id);
  s = await move(s, 'assigned', 400);	// open → assigned needs an assignee
  s = await move(s, 'in_progress', 200);
  s = await move(s, 'open', 200);
  s = await move(s, 'resolved', 200);
  assertTime(s.resolvedAt, 'resolvedAt after resolved');
  s = await move(s, 'in_progress', 200);
  assert.equal(s.resolvedAt, null, 'leaving resolved clears resolvedAt');
  s = await move(s, 'assigned', 400);	// in_progress → assigned needs an assignee
  s = await move(s, 'resolved', 200);
  s = await move(s, 'assigned', 400);	// resolved → assigned needs an assignee
  s = await move(s, 'open', 200);		// reopen
  assert.equal(s.resolvedAt, null);
  assert.equal(s.resolution, null);
  s = await move(s, 'closed', 200);
  s = await move(s, 'in_progress', 400);
  s = await move(s, 'resolved', 400);
  s = await move(s, 'assigned', 400);
  s = await move(s, 'open', 200);		// reopen from closed
  s = await move(s, 'closed', 200);
  await move(s, 'bogus', 400);
});
await check('status moves with an assignee', async () => {
  let s = await mkIssue(b1.id);
  const a = await api('POST', `/api/issues/${s.id}/assign`, { token: T.staff, body: { assigneeId: 'u-fixer' } });
  assertStatus(a, 200);
  s = a.json;
  assert.equal(s.status, 'assigned');
  s = await move(s, 'in_progress', 200);
  assert.equal(s.assignedTo, 'u-fixer');
  s = await move(s, 'assigned', 200);
  s = await move(s, 'resolved', 200);
  s = await move(s, 'assigned', 200);	// resolved → assigned with an assignee
  assert.equal(s.resolvedAt, null);
  s = await move(s, 'open', 200);
  s = await move(s, 'assigned', 200);	// open → assigned with an assignee
  s = await move(s, 'closed', 200);
  await move(s, 'assigned', 400);		// closed → assigned: never
});
await check('resolved → open via PATCH clears the resolution set by resolve', async () => {
  let s = await mkIssue(b1.id);
  const r = await api('POST', `/api/issues/${s.id}/resolve`, { token: T.staff, body: { resolution: 'fixed it' } });
  assertStatus(r, 200);
  s = await move(r.json, 'open', 200);
  assert.equal(s.resolution, null);
  assert.equal(s.resolvedAt, null);
});

// ---- resolve ----------------------------------------------------------------
let R = await mkIssue(b2.id, { priority: 'critical' });
await check('resolve → 200, status resolved, resolution, resolvedAt, issue:resolved + heatmap', async () => {
  const before = lastEventId();
  const r = await api('POST', `/api/issues/${R.id}/resolve`, { token: T.staff, body: { resolution: 'Replaced the pipe' } });
  assertStatus(r, 200);
  assertIssueShape(r.json);
  assert.equal(r.json.status, 'resolved');
  assert.equal(r.json.resolution, 'Replaced the pipe');
  assertTime(r.json.resolvedAt, 'resolvedAt');
  assert.equal(r.json.version, R.version + 1);
  assert.equal(r.headers.get('etag'), `"${r.json.version}"`);
  const ev = expectEvents(before, r.json, 'issue:resolved', { actor: env.USER_STAFF, issue: r.json });
  assert.equal(ev.payload.resolution, 'Replaced the pipe');
  R = r.json;
});
await check('resolve a resolved issue → 400 naming status; a closed one too', async () => {
  const c = await move(await mkIssue(b2.id), 'closed', 200);
  const before = lastEventId();
  assertError(await api('POST', `/api/issues/${R.id}/resolve`, { token: T.staff, body: { resolution: 'again' } }),
    400, { field: 'status' });
  assertError(await api('POST', `/api/issues/${c.id}/resolve`, { token: T.staff, body: { resolution: 'x' } }),
    400, { field: 'status' });
  noEvents(before, R);
});
await check('resolve bodies: missing/empty/over-long resolution → 400 naming resolution', async () => {
  const s = await mkIssue(b2.id);
  for (const body of [{}, { resolution: '' }, { resolution: 'r'.repeat(10001) }, { resolution: 5 }]) {
    assertError(await api('POST', `/api/issues/${s.id}/resolve`, { token: T.staff, body }), 400, { field: 'resolution' });
  }
  assertError(await api('POST', `/api/issues/${s.id}/resolve`,
    { token: T.staff, body: { resolution: 'ok', extra: 1 } }), 400, { field: 'extra' });
  const ok = await api('POST', `/api/issues/${s.id}/resolve`, { token: T.staff, body: { resolution: '😀'.repeat(10000) } });
  assertStatus(ok, 200, '10,000 emoji resolution');
});

// ---- assign -----------------------------------------------------------------
let A = await mkIssue(b2.id);
const assign = (i, assigneeId, token = T.staff) =>
  api('POST', `/api/issues/${i.id}/assign`, { token, body: { assigneeId } });
await check('assign an open issue → assigned, issue:assigned {previousAssignee:null, assignee}', async () => {
  const before = lastEventId();
  const r = await assign(A, 'u-fixer');
  assertStatus(r, 200);
  assert.equal(r.json.status, 'assigned');
  assert.equal(r.json.assignedTo, 'u-fixer');
  assert.equal(r.json.version, A.version + 1);
  const ev = expectEvents(before, r.json, 'issue:assigned', { actor: env.USER_STAFF, issue: r.json });
  assert.equal(ev.payload.previousAssignee, null);
  assert.equal(ev.payload.assignee, 'u-fixer');
  A = r.json;
});
await check('assigning the current assignee changes nothing (200, no event)', async () => {
  const before = lastEventId();
  const r = await assign(A, 'u-fixer');
  assertStatus(r, 200);
  assert.deepEqual(r.json, A);
  noEvents(before, A);
});
await check('reassign → previousAssignee is the old one, still assigned', async () => {
  const before = lastEventId();
  const r = await assign(A, 'u-other');
  assertStatus(r, 200);
  assert.equal(r.json.status, 'assigned');
  const ev = expectEvents(before, r.json, 'issue:assigned');
  assert.equal(ev.payload.previousAssignee, 'u-fixer');
  assert.equal(ev.payload.assignee, 'u-other');
  A = r.json;
});
await check('unassign (null) an assigned issue → open again', async () => {
  const before = lastEventId();
  const r = await assign(A, null);
  assertStatus(r, 200);
  assert.equal(r.json.status, 'open');
  assert.equal(r.json.assignedTo, null);
  const ev = expectEvents(before, r.json, 'issue:assigned');
  assert.equal(ev.payload.previousAssignee, 'u-other');
  assert.equal(ev.payload.assignee, null);
  A = r.json;
});
await check('assign/unassign an in_progress issue keeps in_progress', async () => {
  let s = await move(await mkIssue(b2.id), 'in_progress', 200);
  let r = await assign(s, 'u-fixer');
  assertStatus(r, 200);
  assert.equal(r.json.status, 'in_progress');
  r = await assign(r.json, null);
  assertStatus(r, 200);
  assert.equal(r.json.status, 'in_progress');
  assert.equal(r.json.assignedTo, null);
});
await check('assign bodies: missing, too long, wrong type, unknown field → 400', async () => {
  for (const [body, field] of [[{}, 'assigneeId'], [{ assigneeId: 'u'.repeat(65) }, 'assigneeId'],
    [{ assigneeId: '' }, 'assigneeId'], [{ assigneeId: 7 }, 'assigneeId'], [{ assigneeId: 'u', x: 1 }, 'x']]) {
    assertError(await api('POST', `/api/issues/${A.id}/assign`, { token: T.staff, body }), 400, { field });
  }
  assertStatus(await assign(A, 'u'.repeat(64)), 200, '64-byte assignee');
  A = (await get(A.id)).json;
});

// ---- notes --------------------------------------------------------------------
await check('note → 201 with the issue:note payload; issue and version unchanged; no heatmap event', async () => {
  const before = lastEventId();
  const was = (await get(A.id)).json;
  const r = await api('POST', `/api/issues/${A.id}/notes`, { token: T.reporter, body: { notes: 'Called the plumber' } });
  assertStatus(r, 201);
  assert.deepEqual(Object.keys(r.json).sort(), payloadKeys['issue:note']);
  assert.equal(r.json.issueId, A.id);
  assert.equal(r.json.notes, 'Called the plumber');
  assert.equal(r.json.authorId, env.USER_REPORTER);
  assertTime(r.json.timestamp, 'note timestamp');
  const ev = expectEvents(before, A, 'issue:note', { heatmap: false, actor: env.USER_REPORTER });
  assert.equal(r.json.eventId, ev.id);
  assert.deepEqual(ev.payload, r.json);
  assert.deepEqual((await get(A.id)).json, was);
});
await check('note bodies: missing/empty/over-long → 400 naming notes', async () => {
  for (const body of [{}, { notes: '' }, { notes: 'n'.repeat(10001) }, { notes: ['x'] }]) {
    assertError(await api('POST', `/api/issues/${A.id}/notes`, { token: T.reporter, body }), 400, { field: 'notes' });
  }
});

// ---- history ------------------------------------------------------------------
await check('history: oldest first, one §11 item per action, data = the stored payload', async () => {
  const h = await mkIssue(b1.id);
  const steps = [['issue:created']];
  let r = await patch(h, { title: 'h2' }, { version: 1 });
  assertStatus(r, 200); steps.push(['issue:updated']);
  r = await assign(r.json, 'u-fixer'); assertStatus(r, 200); steps.push(['issue:assigned']);
  const n = await api('POST', `/api/issues/${h.id}/notes`, { token: T.reporter, body: { notes: 'n1' } });
  assertStatus(n, 201); steps.push(['issue:note']);
  r = await api('POST', `/api/issues/${h.id}/resolve`, { token: T.staff, body: { resolution: 'ok' } });
  assertStatus(r, 200); steps.push(['issue:resolved']);
  const res = await api('GET', `/api/issues/${h.id}/history`, { token: T.viewer });
  assertStatus(res, 200);
  assert.deepEqual(Object.keys(res.json).sort(), ['items', 'nextCursor']);
  assert.equal(res.json.nextCursor, null);
  const items = res.json.items;
  assert.deepEqual(items.map((i) => i.type), steps.map((s) => s[0]));
  const stored = Object.fromEntries(eventsSince(0, `issue_id = ${h.id}`).map((e) => [e.id, e]));
  for (let k = 0; k < items.length; k++) {
    const it = items[k];
    assert.deepEqual(Object.keys(it).sort(), ['actorId', 'data', 'eventId', 'timestamp', 'type']);
    assert.equal(typeof it.eventId, 'number');
    if (k) assert.ok(it.eventId > items[k - 1].eventId, 'history not oldest first');
    assertTime(it.timestamp, 'history timestamp');
    assert.ok(stored[it.eventId], `history eventId ${it.eventId} not in events`);
    assert.equal(stored[it.eventId].type, it.type);
    assert.deepEqual(it.data, stored[it.eventId].payload);
    assert.equal(it.data.eventId, it.eventId);
  }
  assert.equal(items[0].actorId, env.USER_REPORTER);
  assert.equal(items[1].actorId, env.USER_STAFF);
  assert.equal(items[3].actorId, env.USER_REPORTER);
  const paged = await api('GET', `/api/issues/${h.id}/history?limit=2`, { token: T.viewer });
  assertStatus(paged, 200);
  assert.deepEqual(paged.json.items, items.slice(0, 2));
  const p2 = await api('GET', `/api/issues/${h.id}/history?limit=2&cursor=${encodeURIComponent(paged.json.nextCursor)}`, { token: T.viewer });
  assertStatus(p2, 200);
  assert.deepEqual(p2.json.items, items.slice(2, 4));
});

// ---- delete -------------------------------------------------------------------
await check('DELETE → 204, then 404 everywhere; issue:deleted + heatmap', async () => {
  const d = await mkIssue(b2.id);
  const before = lastEventId();
  const r = await api('DELETE', `/api/issues/${d.id}`, { token: T.admin });
  assertStatus(r, 204);
  assert.equal(r.text, '');
  const ev = expectEvents(before, d, 'issue:deleted', { actor: env.USER_ADMIN });
  assert.deepEqual({ ...ev.payload, eventId: 0, timestamp: 0 }, {
    issueId: d.id, organizationId: env.ORG_A, campusId: d.campusId, buildingId: d.buildingId,
    actorId: env.USER_ADMIN, eventId: 0, timestamp: 0,
  });
  assertError(await get(d.id), 404);
  assertError(await api('DELETE', `/api/issues/${d.id}`, { token: T.admin }), 404);
  assertError(await patch(d, { title: 'z' }, { version: 1 }), 404);
  assertError(await api('GET', `/api/issues/${d.id}/history`, { token: T.viewer }), 404);
  assertError(await api('POST', `/api/issues/${d.id}/notes`, { token: T.reporter, body: { notes: 'x' } }), 404);
  const l = await list(`buildingId=${b2.id}&limit=200`);
  assert.ok(!l.items.some((i) => i.id === d.id), 'deleted issue still listed');
});

await check('event ids of this test are unique and every payload has eventId and timestamp', async () => {
  const evs = eventsSince(0, `building_id IN (${b1.id},${b2.id},${b3.id},${b4.id})`);
  assert.equal(new Set(evs.map((e) => e.id)).size, evs.length);
  for (const e of evs) {
    assert.equal(e.payload.eventId, e.id);
    assert.match(String(e.payload.timestamp), RFC3339MS, `${e.type} ${e.id}: payload.timestamp`);
  }
});

done();
