// Every class of bad input gets the SPEC §4 error, exactly
// {"error":{"code","message"}}, naming the field; hostile but valid text is
// stored and returned verbatim; the server keeps answering.
import {
  env, api, check, done, need, assert, assertStatus, assertError, T, uniq,
  mkCampus, mkBuilding, mkIssue, db,
} from './lib/stack.mjs';

const campus = await mkCampus();
const bldg = await mkBuilding(campus.id);
const issue = await mkIssue(bldg.id);
need(issue, 'fixtures');
const base = () => ({ title: uniq('bad'), category: 'plumbing', buildingId: bldg.id });
const create = (body, opts = {}) => api('POST', '/api/issues', { token: T.reporter, body, ...opts });
const createRaw = (raw, opts = {}) => api('POST', '/api/issues', { token: T.reporter, raw, ...opts });
const MAX = Number(env.MAX_BODY_BYTES || 65536);

// ---- JSON syntax ---------------------------------------------------------------
await check('malformed JSON → 400', async () => {
  for (const raw of ['{"title":', '{title:"x"}', "{'title':'x'}", '{"title":"x",}', '', ' ', '{"a":1', 'nul',
    '{"title":"\\x"}', '{"title":"\u0001"}']) {
    assertError(await createRaw(raw), 400, { what: JSON.stringify(raw) });
  }
});
await check('trailing garbage after the object → 400', async () => {
  const ok = JSON.stringify(base());
  for (const raw of [`${ok} x`, `${ok}{}`, `${ok}]`, `${ok},`, `${ok}\u0000`]) {
    assertError(await createRaw(raw), 400, { what: raw.slice(-8) });
  }
});
await check('a body that is not an object → 400', async () => {
  for (const raw of ['[]', '[{"title":"x"}]', '"title"', '42', 'null', 'true']) {
    assertError(await createRaw(raw), 400, { what: raw });
  }
});
await check('invalid UTF-8 in the body → 400', async () => {
  const raw = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(`","category":"plumbing","buildingId":"${bldg.id}"}`)]);
  assertError(await createRaw(raw), 400);
});
await check('nesting deeper than 32 → 400', async () => {
  const deep = `{"title":"x","category":"plumbing","buildingId":"${bldg.id}","location":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`;
  assertError(await createRaw(deep), 400);
  const arr = `{"title":${'['.repeat(100)}${']'.repeat(100)}}`;
  assertError(await createRaw(arr), 400);
});

// ---- fields ------------------------------------------------------------------------
const wrongTypes = [
  ['title', 5], ['title', null], ['title', ['x']], ['description', []], ['description', 1],
  ['category', 7], ['category', { a: 1 }], ['priority', 1], ['priority', null], ['priority', 'HIGH'],
  ['buildingId', 123], ['buildingId', true], ['campusId', true], ['campusId', 5],
  ['location', 'room 5'], ['location', []], ['location', 3],
];
for (const [field, value] of wrongTypes) {
  await check(`wrong type ${field}=${JSON.stringify(value)} → 400 naming ${field}`, async () => {
    assertError(await create({ ...base(), [field]: value }), 400, { field });
  });
}
const badLocations = [
  [{ floor: 2 }, 'floor'], [{ room: 201 }, 'room'], [{ lat: '52' }, 'lat'], [{ lng: {} }, 'lng'],
  [{ lat: 90.1 }, 'lat'], [{ lng: -180.5 }, 'lng'], [{ floor: 'f'.repeat(33) }, 'floor'],
  [{ room: 'r'.repeat(65) }, 'room'], [{ elevator: 'B' }, 'elevator'],
];
for (const [location, field] of badLocations) {
  await check(`location ${JSON.stringify(location).slice(0, 30)} → 400 naming ${field}`, async () => {
    assertError(await create({ ...base(), location }), 400, { field });
  });
}
for (const field of ['title', 'category', 'buildingId']) {
  await check(`missing required ${field} → 400 naming it`, async () => {
    const b = base();
    delete b[field];
    assertError(await create(b), 400, { field });
  });
}
await check('unknown fields → 400 naming them', async () => {
  for (const f of ['colour', 'status', 'id', 'version', 'organizationId', 'reporterId', 'createdAt', 'Title']) {
    assertError(await create({ ...base(), [f]: 'x' }), 400, { field: f });
  }
});
await check('bad values: priority, category charset/length, empty title', async () => {
  for (const [field, value] of [['priority', 'urgent'], ['category', 'Plumbing'], ['category', 'a b'],
    ['category', ''], ['category', 'c'.repeat(65)], ['category', 'plumb%'], ['category', 'é'], ['title', '']]) {
    assertError(await create({ ...base(), [field]: value }), 400, { field, what: `${field}=${value}` });
  }
  const ok = await create({ ...base(), category: 'a'.repeat(64) });
  assertStatus(ok, 201, '64-char category');
  assertStatus(await create({ ...base(), category: 'z0_-9' }), 201, 'category [a-z0-9_-]');
});

// ---- lengths in code points ------------------------------------------------------
await check('title of 200 emoji → 201, returned verbatim; 201 emoji → 400', async () => {
  const t200 = '😀'.repeat(200);
  const r = await create({ ...base(), title: t200 });
  assertStatus(r, 201);
  assert.equal(r.json.title, t200);
  assert.equal((await api('GET', `/api/issues/${r.json.id}`, { token: T.viewer })).json.title, t200);
  assertError(await create({ ...base(), title: '😀'.repeat(201) }), 400, { field: 'title' });
  assertStatus(await create({ ...base(), title: 'x'.repeat(200) }), 201);
  assertError(await create({ ...base(), title: 'x'.repeat(201) }), 400, { field: 'title' });
  assertStatus(await create({ ...base(), title: 'é'.repeat(200) }), 201);
  assertError(await create({ ...base(), title: 'é'.repeat(201) }), 400, { field: 'title' });
});
await check('description of 10,000 code points → 201; 10,001 → 400', async () => {
  const d = '中'.repeat(10000);
  const r = await create({ ...base(), description: d });
  assertStatus(r, 201);
  assert.equal(r.json.description, d);
  assertError(await create({ ...base(), description: '中'.repeat(10001) }), 400, { field: 'description' });
});
await check('floor 32 / room 64 code points accepted', async () => {
  const r = await create({ ...base(), location: { floor: '😀'.repeat(32), room: 'é'.repeat(64) } });
  assertStatus(r, 201);
  assert.equal(r.json.location.floor, '😀'.repeat(32));
});

// ---- size and media type -----------------------------------------------------------
await check(`body over http.max_body_bytes (${MAX}) → 413 payload_too_large`, async () => {
  assertError(await create({ ...base(), description: 'x'.repeat(MAX + 10) }), 413);
  assertError(await createRaw('x'.repeat(MAX * 4)), 413);
});
await check('body just under the limit is read (400 for the long description, not 413)', async () => {
  assertError(await create({ ...base(), description: 'x'.repeat(MAX - 200) }), 400, { field: 'description' });
});
await check('wrong or missing Content-Type → 415', async () => {
  const raw = JSON.stringify(base());
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data; boundary=x']) {
    assertError(await createRaw(raw, { contentType: ct }), 415, { what: ct });
  }
  assertError(await createRaw(raw, { contentType: null }), 415, { what: 'no Content-Type' });
  assertError(await api('PATCH', `/api/issues/${issue.id}`, { token: T.staff, raw: '{"title":"x","version":1}', contentType: 'text/plain' }), 415);
});
await check('Content-Type with parameters or other case is fine', async () => {
  for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON']) {
    assertStatus(await createRaw(JSON.stringify(base()), { contentType: ct }), 201, ct);
  }
});

// ---- query parameters -----------------------------------------------------------------
const badQueries = [
  ['limit=0', 'limit'], ['limit=abc', 'limit'], ['limit=-1', 'limit'], ['limit=1.5', 'limit'], ['limit=', 'limit'],
  ['status=bogus', 'status'], ['status=open,bogus', 'status'], ['priority=urgent', 'priority'],
  ['cursor=garbage', 'cursor'], ['cursor=%C3%A9t%C3%A9', 'cursor'], ['cursor=99999999999999999999999', 'cursor'],
  ['campusId=x', 'campusId'], ['campusId=1%20OR%201%3D1', 'campusId'], ['buildingId=abc', 'buildingId'],
  ['buildingId=1,x', 'buildingId'], ['category=Bad!', 'category'], ['category=%25', 'category'],
];
for (const [q, field] of badQueries) {
  await check(`GET /api/issues?${q} → 400 naming ${field}`, async () => {
    assertError(await api('GET', `/api/issues?${q}`, { token: T.viewer }), 400, { field });
  });
}
await check('more than 50 values in a comma list → 400', async () => {
  const many = Array.from({ length: 51 }, (_, k) => String(k + 1)).join(',');
  assertError(await api('GET', `/api/issues?buildingId=${many}`, { token: T.viewer }), 400, { field: 'buildingId' });
  assertStatus(await api('GET', `/api/issues?buildingId=${many.split(',').slice(0, 50).join(',')}`, { token: T.viewer }), 200);
});
await check('unknown query parameters are ignored', async () => {
  assertStatus(await api('GET', `/api/issues?_=${Date.now()}&utm_source=x`, { token: T.viewer }), 200);
});
await check('heatmap bad query values → 400 naming the parameter', async () => {
  for (const [q, field] of [['campusId=x', 'campusId'], ['buildingIds=abc', 'buildingIds'], ['categories=Bad!', 'categories']]) {
    assertError(await api('GET', `/api/heatmap?${q}`, { token: T.viewer }), 400, { field, what: q });
  }
});

// ---- paths and methods ------------------------------------------------------------------
await check('unknown paths → 404 not_found', async () => {
  for (const p of ['/api/nope', '/api/issues/1/bogus', `/api/issues/${issue.id}/notes/1`, '/api/organizations',
    '/api/campuses', '/api/', '/api/issues/', `/api/organizations/${env.ORG_A}/campuses/1`]) {
    assertError(await api('GET', p, { token: T.admin }), 404, { what: p });
  }
});
await check('non-numeric path ids → 404', async () => {
  for (const p of ['/api/issues/abc', '/api/issues/1e3', '/api/issues/%27%20OR%201%3D1', '/api/issues/-5/history']) {
    assertError(await api('GET', p, { token: T.admin }), 404, { what: p });
  }
});
await check('known path, wrong method → 405 method_not_allowed with Allow', async () => {
  const cases = [
    ['PUT', '/api/issues'], ['DELETE', '/api/issues'], ['PUT', `/api/issues/${issue.id}`],
    ['POST', `/api/issues/${issue.id}`], ['GET', `/api/issues/${issue.id}/resolve`],
    ['GET', `/api/issues/${issue.id}/assign`], ['DELETE', `/api/organizations/${env.ORG_A}/campuses`],
    ['PATCH', `/api/campuses/${campus.id}/buildings`], ['POST', '/api/heatmap'], ['POST', '/health'],
    ['DELETE', `/api/issues/${issue.id}/history`],
  ];
  for (const [m, p] of cases) {
    const r = await api(m, p, { token: T.admin, body: m === 'GET' || m === 'DELETE' ? undefined : {} });
    assertError(r, 405, { what: `${m} ${p}` });
    assert.ok(r.headers.get('allow'), `${m} ${p}: no Allow header`);
  }
});

// ---- hostile but valid text ---------------------------------------------------------------
const texts = [
  "'; DROP TABLE issues; --", "Robert'); DELETE FROM events; --", '\\', '\\\\n\\0', '%', '_', '100% _done_',
  '" OR ""="', 'a\u0000b'.replace('\u0000', ''), 'é', 'naïve café', '中文标题', '😀🎉👍🏽', 'مرحبا بالعالم',
  'עברית \u202Ereversed\u202C', 'line1\nline2\ttab', '<script>alert(1)</script>', '${jndi:x}', '\u00a0nbsp\u2028ls',
];
for (const t of texts) {
  await check(`stored and returned verbatim: ${JSON.stringify(t).slice(0, 40)}`, async () => {
    const title = t;
    const description = `desc ${t}`;
    const r = await create({ ...base(), title, description, location: { room: t.slice(0, 20) } });
    assertStatus(r, 201);
    assert.equal(r.json.title, title);
    assert.equal(r.json.description, description);
    const g = await api('GET', `/api/issues/${r.json.id}`, { token: T.viewer });
    assert.equal(g.json.title, title);
    assert.equal(g.json.description, description);
    assert.equal(g.json.location.room, t.slice(0, 20));
    const [[dbTitle]] = db(`SELECT title FROM issues WHERE id = ${Number(r.json.id)}`);
    assert.equal(dbTitle, title, 'database copy differs');
    const n = await api('POST', `/api/issues/${r.json.id}/notes`, { token: T.reporter, body: { notes: t } });
    assertStatus(n, 201);
    assert.equal(n.json.notes, t);
    const p = await api('PATCH', `/api/issues/${r.json.id}`, { token: T.staff, body: { title: `${t}!`, version: 1 } });
    assertStatus(p, 200);
    assert.equal(p.json.title, `${t}!`);
  });
}
await check('the issues and events tables survived', async () => {
  assert.ok(Number(db('SELECT COUNT(*) FROM issues')[0][0]) > 0);
  assert.ok(Number(db('SELECT COUNT(*) FROM events')[0][0]) > 0);
});

// ---- still alive ------------------------------------------------------------------------
await check('the server still answers: /health 200 and a normal create 201', async () => {
  const h = await api('GET', '/health');
  assertStatus(h, 200);
  assert.equal(h.json.db, 'ok');
  assertStatus(await create(base()), 201);
});

done();
