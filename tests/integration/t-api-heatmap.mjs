// GET /api/heatmap (SPEC §5, §11): every building of the filter, zeros
// included; open = not resolved/closed; weight low 1, medium 2, high 3,
// critical 4; byPriority always all four keys, byCategory only non-zero;
// filters campusId, buildingIds, categories; lastEventId.
import {
  env, api, check, done, need, assert, assertStatus, assertError, assertTime, T, uniq,
  mkCampus, mkBuilding, mkIssue, lastEventId,
} from './lib/stack.mjs';

const topKeys = ['buildings', 'campusId', 'generatedAt', 'lastEventId', 'organizationId', 'totals'];
const bKeys = ['buildingId', 'byCategory', 'byPriority', 'campusId', 'lat', 'lng', 'name', 'openIssues', 'weight'];
const prio = (low, medium, high, critical) => ({ low, medium, high, critical });

const campus = await mkCampus(uniq('Heat campus'), T.admin, env.ORG_A, { lat: 52.2, lng: 0.12 });
const b1 = await mkBuilding(campus.id, uniq('Library'), T.admin, { lat: 52.2053, lng: 0.1218 });
const b2 = await mkBuilding(campus.id, uniq('Empty hall'));
const b3 = await mkBuilding(campus.id, uniq('Lab'), T.admin, { lat: 52.21, lng: 0.13 });
need(b3, 'fixtures');

const staffDo = (i, what, body) => api('POST', `/api/issues/${i.id}/${what}`, { token: T.staff, body });
const setStatus = (i, status) => api('PATCH', `/api/issues/${i.id}`, { token: T.staff, body: { status, version: i.version } });

await check('fixtures: open, assigned, in_progress, resolved and closed issues', async () => {
  await mkIssue(b1.id, { priority: 'low', category: 'plumbing' });
  const h = await mkIssue(b1.id, { priority: 'high', category: 'plumbing' });
  assertStatus(await staffDo(h, 'assign', { assigneeId: 'u-fixer' }), 200);	// assigned: still open
  const c = await mkIssue(b1.id, { priority: 'critical', category: 'electrical' });
  assertStatus(await setStatus(c, 'in_progress'), 200);				// in_progress: open
  const r = await mkIssue(b1.id, { priority: 'medium', category: 'hvac' });
  assertStatus(await staffDo(r, 'resolve', { resolution: 'ok' }), 200);		// not open
  const cl = await mkIssue(b1.id, { priority: 'critical', category: 'hvac' });
  assertStatus(await setStatus(cl, 'closed'), 200);					// not open
  const del = await mkIssue(b3.id, { priority: 'critical', category: 'plumbing' });
  assertStatus(await api('DELETE', `/api/issues/${del.id}`, { token: T.admin }), 204);	// gone
  await mkIssue(b3.id, { priority: 'medium', category: 'plumbing' });
});

const expected = {
  [b1.id]: { openIssues: 3, weight: 8, byPriority: prio(1, 0, 1, 1), byCategory: { plumbing: 2, electrical: 1 } },
  [b2.id]: { openIssues: 0, weight: 0, byPriority: prio(0, 0, 0, 0), byCategory: {} },
  [b3.id]: { openIssues: 1, weight: 2, byPriority: prio(0, 1, 0, 0), byCategory: { plumbing: 1 } },
};
const place = {
  [b1.id]: { name: b1.name, lat: 52.2053, lng: 0.1218 },
  [b2.id]: { name: b2.name, lat: null, lng: null },
  [b3.id]: { name: b3.name, lat: 52.21, lng: 0.13 },
};
async function heat(q, token = T.viewer) {
  const r = await api('GET', `/api/heatmap${q ? `?${q}` : ''}`, { token });
  assertStatus(r, 200, q);
  return r.json;
}
function checkBuildings(h, ids, exp = expected) {
  const got = Object.fromEntries(h.buildings.map((b) => [b.buildingId, b]));
  assert.deepEqual(Object.keys(got).sort(), [...ids].sort(), 'buildings listed');
  for (const id of ids) {
    const b = got[id];
    assert.deepEqual(Object.keys(b).sort(), bKeys, 'building entry keys');
    assert.deepEqual(Object.keys(b.byPriority).sort(), ['critical', 'high', 'low', 'medium']);
    for (const v of Object.values(b.byCategory)) assert.ok(v > 0, 'zero in byCategory');
    assert.deepEqual({ ...b, buildingId: 0, campusId: 0, name: 0, lat: 0, lng: 0 },
      { ...exp[id], buildingId: 0, campusId: 0, name: 0, lat: 0, lng: 0 }, `counts of building ${id}`);
    assert.equal(b.campusId, campus.id);
    assert.equal(b.name, place[id].name);
    assert.equal(b.lat, place[id].lat);
    assert.equal(b.lng, place[id].lng);
  }
}

await check('campusId filter: shape, every building (zeros too), counts, weights, totals', async () => {
  const floor = lastEventId();
  const h = await heat(`campusId=${campus.id}`);
  assert.deepEqual(Object.keys(h).sort(), topKeys);
  assert.equal(h.organizationId, env.ORG_A);
  assert.equal(h.campusId, campus.id);
  assertTime(h.generatedAt, 'generatedAt');
  assert.equal(typeof h.lastEventId, 'number');
  assert.ok(h.lastEventId >= floor, `lastEventId ${h.lastEventId} < ${floor}, the last event before the request`);
  checkBuildings(h, [b1.id, b2.id, b3.id]);
  assert.deepEqual(h.totals, { openIssues: 4, weight: 10 });
});

await check('lastEventId covers every event of our changes and is not ahead of the log', async () => {
  const mine = lastEventId();
  const h = await heat(`campusId=${campus.id}`);
  assert.ok(h.lastEventId >= mine && h.lastEventId <= lastEventId(), `${h.lastEventId} vs ${mine}`);
  const i = await mkIssue(b2.id, { priority: 'low', category: 'x' });
  const h2 = await heat(`campusId=${campus.id}`);
  const evs = Number(lastEventId());
  assert.ok(h2.lastEventId > h.lastEventId, 'lastEventId did not move after a create');
  assert.ok(h2.lastEventId <= evs);
  assert.deepEqual(h2.buildings.find((b) => b.buildingId === b2.id).byPriority, prio(1, 0, 0, 0));
  assertStatus(await api('DELETE', `/api/issues/${i.id}`, { token: T.admin }), 204);
  checkBuildings(await heat(`campusId=${campus.id}`), [b1.id, b2.id, b3.id]);
});

await check('buildingIds filter (comma list)', async () => {
  const h = await heat(`buildingIds=${b1.id},${b3.id}`);
  checkBuildings(h, [b1.id, b3.id]);
  assert.deepEqual(h.totals, { openIssues: 4, weight: 10 });
  const one = await heat(`campusId=${campus.id}&buildingIds=${b2.id}`);
  checkBuildings(one, [b2.id]);
  assert.deepEqual(one.totals, { openIssues: 0, weight: 0 });
});

await check('categories filter: counts only those categories, zeros kept', async () => {
  const h = await heat(`campusId=${campus.id}&categories=plumbing`);
  checkBuildings(h, [b1.id, b2.id, b3.id], {
    [b1.id]: { openIssues: 2, weight: 4, byPriority: prio(1, 0, 1, 0), byCategory: { plumbing: 2 } },
    [b2.id]: expected[b2.id],
    [b3.id]: expected[b3.id],
  });
  assert.deepEqual(h.totals, { openIssues: 3, weight: 6 });
  const two = await heat(`campusId=${campus.id}&categories=electrical,hvac`);
  checkBuildings(two, [b1.id, b2.id, b3.id], {
    [b1.id]: { openIssues: 1, weight: 4, byPriority: prio(0, 0, 0, 1), byCategory: { electrical: 1 } },
    [b2.id]: expected[b2.id],
    [b3.id]: { openIssues: 0, weight: 0, byPriority: prio(0, 0, 0, 0), byCategory: {} },
  });
  assert.deepEqual(two.totals, { openIssues: 1, weight: 4 });
});

await check('no filter: campusId null, our buildings among all of orgA, totals = sum', async () => {
  const h = await heat('');
  assert.equal(h.campusId, null);
  const ours = h.buildings.filter((b) => [b1.id, b2.id, b3.id].includes(b.buildingId));
  assert.equal(ours.length, 3);
  const sum = h.buildings.reduce((a, b) => ({ openIssues: a.openIssues + b.openIssues, weight: a.weight + b.weight }),
    { openIssues: 0, weight: 0 });
  assert.deepEqual(h.totals, sum, 'totals are the sum of the buildings');
  for (const b of h.buildings) {
    const w = b.byPriority.low + 2 * b.byPriority.medium + 3 * b.byPriority.high + 4 * b.byPriority.critical;
    assert.equal(b.weight, w, `weight of building ${b.buildingId}`);
    assert.equal(b.openIssues, b.byPriority.low + b.byPriority.medium + b.byPriority.high + b.byPriority.critical);
  }
});

await check('organizationId: own → 200, another → 403', async () => {
  assertStatus(await api('GET', `/api/heatmap?organizationId=${env.ORG_A}&campusId=${campus.id}`, { token: T.viewer }), 200);
  assertError(await api('GET', `/api/heatmap?organizationId=${env.ORG_B}`, { token: T.viewer }), 403);
});

await check("a foreign campus narrows to nothing; orgB never sees orgA's buildings", async () => {
  const bc = await mkCampus(uniq('B'), T.bAdmin, env.ORG_B);
  const h = await heat(`campusId=${bc.id}`);
  assert.deepEqual(h.buildings, []);
  assert.deepEqual(h.totals, { openIssues: 0, weight: 0 });
  const hb = await heat(`buildingIds=${b1.id}`, T.bViewer);
  assert.deepEqual(hb.buildings, []);
});

await check('resolving an issue lowers the counts at once', async () => {
  const i = await mkIssue(b2.id, { priority: 'high', category: 'roof' });
  let b = (await heat(`buildingIds=${b2.id}`)).buildings[0];
  assert.deepEqual([b.openIssues, b.weight, b.byCategory], [1, 3, { roof: 1 }]);
  assertStatus(await staffDo(i, 'resolve', { resolution: 'patched' }), 200);
  b = (await heat(`buildingIds=${b2.id}`)).buildings[0];
  assert.deepEqual([b.openIssues, b.weight, b.byCategory], [0, 0, {}]);
});

await check('bad filters → 400 naming the parameter', async () => {
  for (const [q, field] of [['campusId=abc', 'campusId'], ['buildingIds=1,x', 'buildingIds'],
    ['categories=NOPE!', 'categories']]) {
    assertError(await api('GET', `/api/heatmap?${q}`, { token: T.viewer }), 400, { field });
  }
});

done();
