// Campuses and buildings: create (admin), list (viewer), pagination,
// other organizations, bad bodies (SPEC §5, doc/api.md "Campuses and buildings").
import {
  env, api, check, done, need, assert, assertStatus, assertError, T, uniq, jwt,
  mkCampus, mkBuilding,
} from './lib/stack.mjs';

const ORG = env.ORG_A;
const campusKeys = ['id', 'lat', 'lng', 'name'];
const buildingKeys = ['campusId', 'id', 'lat', 'lng', 'name'];

async function listAll(path, token, limit) {
  const seen = [];
  let cursor = null;
  for (let page = 0; page < 1000; page++) {
    const q = `${path}${path.includes('?') ? '&' : '?'}limit=${limit}` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const r = await api('GET', q, { token });
    assertStatus(r, 200, `GET ${q}`);
    assert.deepEqual(Object.keys(r.json).sort(), ['items', 'nextCursor']);
    assert.ok(r.json.items.length <= limit, `page of ${r.json.items.length} > limit ${limit}`);
    seen.push(...r.json.items);
    cursor = r.json.nextCursor;
    if (cursor === null) return seen;
    assert.equal(typeof cursor, 'string');
    assert.ok(r.json.items.length > 0, 'empty page with a nextCursor');
  }
  throw new Error('pagination does not end');
}

let campus;
await check('admin creates a campus: 201, {id,name,lat,lng}, id a decimal string', async () => {
  const name = uniq('Main campus');
  const r = await api('POST', `/api/organizations/${ORG}/campuses`,
    { token: T.admin, body: { name, lat: 52.2053, lng: 0.1218 } });
  assertStatus(r, 201);
  assert.deepEqual(Object.keys(r.json).sort(), campusKeys);
  assert.match(r.json.id, /^[0-9]+$/);
  assert.equal(r.json.name, name);
  assert.equal(r.json.lat, 52.2053);
  assert.equal(r.json.lng, 0.1218);
  campus = r.json;
});
need(campus, 'a campus could be created');

await check('campus without lat/lng: both null', async () => {
  const c = await mkCampus();
  assert.equal(c.lat, null);
  assert.equal(c.lng, null);
});

await check('lat/lng null and boundary values accepted', async () => {
  for (const [lat, lng] of [[null, null], [-90, -180], [90, 180], [0, 0]]) {
    const c = await mkCampus(uniq('edge'), T.admin, ORG, { lat, lng });
    assert.equal(c.lat, lat);
    assert.equal(c.lng, lng);
  }
});

await check('200 emoji name accepted (code points, not bytes)', async () => {
  const name = '😀'.repeat(200);
  const c = await mkCampus(name);
  assert.equal(c.name, name);
});

await check('viewer lists campuses: {items,nextCursor}, the new one included, oldest first', async () => {
  const all = await listAll(`/api/organizations/${ORG}/campuses`, T.viewer, 200);
  const mine = all.find((c) => c.id === campus.id);
  assert.deepEqual(mine, campus);
  for (const c of all) assert.deepEqual(Object.keys(c).sort(), campusKeys);
  const ids = all.map((c) => BigInt(c.id));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `not oldest first at ${i}`);
});

await check('campus pagination: limit=2 pages cover every campus once, in order', async () => {
  const made = [];
  for (let i = 0; i < 3; i++) made.push((await mkCampus()).id);
  const paged = (await listAll(`/api/organizations/${ORG}/campuses`, T.viewer, 2)).map((c) => c.id);
  assert.equal(new Set(paged).size, paged.length, 'duplicates across pages');
  for (const id of made) assert.ok(paged.includes(id), `campus ${id} missing from the pages`);
  const idx = made.map((id) => paged.indexOf(id));
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b), 'pages not oldest first');
  const one = await api('GET', `/api/organizations/${ORG}/campuses?limit=1`, { token: T.viewer });
  assertStatus(one, 200);
  assert.equal(one.json.items.length, 1);
  assert.equal(typeof one.json.nextCursor, 'string');
});

let bldg;
await check('admin creates a building: 201, {id,campusId,name,lat,lng}', async () => {
  const name = uniq('Library');
  const r = await api('POST', `/api/campuses/${campus.id}/buildings`,
    { token: T.admin, body: { name, lat: 52.2, lng: 0.12 } });
  assertStatus(r, 201);
  assert.deepEqual(Object.keys(r.json).sort(), buildingKeys);
  assert.match(r.json.id, /^[0-9]+$/);
  assert.equal(r.json.campusId, campus.id);
  assert.equal(r.json.name, name);
  assert.equal(r.json.lat, 52.2);
  assert.equal(r.json.lng, 0.12);
  bldg = r.json;
});
need(bldg, 'a building could be created');

await check('viewer lists buildings; limit=1 pagination gives all, oldest first, then null', async () => {
  const more = [bldg.id];
  for (let i = 0; i < 3; i++) more.push((await mkBuilding(campus.id)).id);
  const paged = await listAll(`/api/campuses/${campus.id}/buildings`, T.viewer, 1);
  assert.deepEqual(paged.map((b) => b.id), more);
  assert.deepEqual(paged[0], bldg);
  for (const b of paged) assert.equal(b.campusId, campus.id);
});

await check('a campus with no buildings lists {items:[],nextCursor:null}', async () => {
  const c = await mkCampus();
  const r = await api('GET', `/api/campuses/${c.id}/buildings`, { token: T.viewer });
  assertStatus(r, 200);
  assert.deepEqual(r.json, { items: [], nextCursor: null });
});

await check('limit above 200 is clamped, not refused', async () => {
  const r = await api('GET', `/api/organizations/${ORG}/campuses?limit=1000`, { token: T.viewer });
  assertStatus(r, 200);
  assert.ok(r.json.items.length <= 200);
});

await check('bad list parameters: limit=0, limit=abc, cursor=garbage → 400 naming them', async () => {
  for (const [q, field] of [['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=-3', 'limit'],
    ['cursor=garbage', 'cursor']]) {
    assertError(await api('GET', `/api/organizations/${ORG}/campuses?${q}`, { token: T.viewer }),
      400, { field, what: q });
    assertError(await api('GET', `/api/campuses/${campus.id}/buildings?${q}`, { token: T.viewer }),
      400, { field, what: q });
  }
});

await check('viewer, reporter and staff cannot create campuses or buildings (403)', async () => {
  for (const token of [T.viewer, T.reporter, T.staff]) {
    assertError(await api('POST', `/api/organizations/${ORG}/campuses`,
      { token, body: { name: uniq('nope') } }), 403);
    assertError(await api('POST', `/api/campuses/${campus.id}/buildings`,
      { token, body: { name: uniq('nope') } }), 403);
  }
});

await check('other organization: orgA path param with an orgB token → 403', async () => {
  assertError(await api('GET', `/api/organizations/${ORG}/campuses`, { token: T.bAdmin }), 403);
  assertError(await api('POST', `/api/organizations/${ORG}/campuses`,
    { token: T.bAdmin, body: { name: uniq('intruder') } }), 403);
});

await check("other organization: orgA's campus by id with an orgB token → 404", async () => {
  assertError(await api('GET', `/api/campuses/${campus.id}/buildings`, { token: T.bAdmin }), 404);
  assertError(await api('POST', `/api/campuses/${campus.id}/buildings`,
    { token: T.bAdmin, body: { name: uniq('intruder') } }), 404);
  const list = await api('GET', `/api/campuses/${campus.id}/buildings`, { token: T.viewer });
  assert.ok(!list.json.items.some((b) => b.name.startsWith('intruder')));
});

await check("orgB's own campuses are invisible to orgA", async () => {
  const b = await mkCampus(uniq('B campus'), T.bAdmin, env.ORG_B);
  const all = await listAll(`/api/organizations/${ORG}/campuses`, T.viewer, 200);
  assert.ok(!all.some((c) => c.id === b.id), 'orgB campus listed for orgA');
  assertError(await api('GET', `/api/campuses/${b.id}/buildings`, { token: T.admin }), 404);
});

await check('an organization that does not exist → 404 (token of that org)', async () => {
  const token = jwt({ userId: 'u-ghost', sub: 'u-ghost', organizationId: 'orgNope', role: 'admin' });
  assertError(await api('POST', '/api/organizations/orgNope/campuses',
    { token, body: { name: 'x' } }), 404);
});

await check('unknown or non-numeric campus id → 404', async () => {
  for (const id of ['999999999999', 'abc', '1x', '-1']) {
    assertError(await api('GET', `/api/campuses/${id}/buildings`, { token: T.viewer }), 404, { what: id });
    assertError(await api('POST', `/api/campuses/${id}/buildings`,
      { token: T.admin, body: { name: 'x' } }), 404, { what: id });
  }
});

const bad = [
  [{}, 'name'], [{ name: '' }, 'name'], [{ name: 'x'.repeat(201) }, 'name'],
  [{ name: '😀'.repeat(201) }, 'name'], [{ name: 42 }, 'name'], [{ name: null }, 'name'],
  [{ name: 'ok', lat: 90.5 }, 'lat'], [{ name: 'ok', lat: -91 }, 'lat'], [{ name: 'ok', lat: '52' }, 'lat'],
  [{ name: 'ok', lng: 180.01 }, 'lng'], [{ name: 'ok', lng: -181 }, 'lng'], [{ name: 'ok', lng: true }, 'lng'],
  [{ name: 'ok', colour: 'red' }, 'colour'], [{ name: 'ok', id: '7' }, 'id'],
];
await check('bad campus bodies → 400 naming the field', async () => {
  for (const [body, field] of bad) {
    assertError(await api('POST', `/api/organizations/${ORG}/campuses`, { token: T.admin, body }),
      400, { field, what: JSON.stringify(body).slice(0, 60) });
  }
});
await check('bad building bodies → 400 naming the field', async () => {
  for (const [body, field] of [...bad, [{ name: 'ok', campusId: '1' }, 'campusId']]) {
    assertError(await api('POST', `/api/campuses/${campus.id}/buildings`, { token: T.admin, body }),
      400, { field, what: JSON.stringify(body).slice(0, 60) });
  }
});
await check('malformed and non-object campus bodies → 400', async () => {
  for (const raw of ['{"name":', '[]', '"name"', 'null', '{"name":"a"} x']) {
    assertError(await api('POST', `/api/organizations/${ORG}/campuses`, { token: T.admin, raw }),
      400, { what: raw });
  }
});

done();
