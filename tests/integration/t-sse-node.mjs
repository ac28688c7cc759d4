// SSE through both front ends (lighttpd + the shipped lighttpd/ciis.conf,
// Apache + the shipped apache-conf/ciis-proxy-fcgi.conf), with node's
// `eventsource` package (token in Authorization through its custom fetch)
// and a raw reader for the wire format of doc/sse.md.  A private stack
// (lib/sse.mjs) with sse.heartbeat_seconds = 1; both ciis-api processes
// share its database.
import assert from 'node:assert/strict';
import { need as npm } from './lib/npm.mjs';
import { sseStack, rawStream, waitFor, sleep, feApi, eventIdOf, RFC3339MS, nonHeartbeat } from './lib/sse.mjs';
import { makeCtx, commonCases } from './lib/sse-cases.mjs';

const { EventSource } = npm('eventsource');
const X = await sseStack();
const { S, fronts } = X;
const { check, done } = S;

// The eventsource adapter of lib/sse-cases.mjs.
const client = {
  kind: 'node',
  async open(fe, path, params = {}, { token, tokenRef, lastEventId } = {}) {
    const ref = tokenRef || { token };
    const url = `${fe.base}${path}?${new URLSearchParams(params)}`;
    const rec = { msgs: [], opens: 0, errors: 0, statuses: [], requests: [] };
    let first = true;
    const es = new EventSource(url, {
      fetch: (input, init) => {
        const headers = { ...(init.headers || {}) };
        if (ref.token) headers.Authorization = `Bearer ${ref.token}`;
        if (first && lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
        first = false;
        rec.requests.push(headers);
        return fetch(input, { ...init, headers }).then((r) => { rec.statuses.push(r.status); return r; });
      },
    });
    es.onopen = () => { rec.opens++; };
    es.onerror = () => { rec.errors++; };
    es.onmessage = (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch { data = { unparsable: e.data }; }
      rec.msgs.push({ data, lastEventId: e.lastEventId, at: Date.now() });
    };
    return {
      rec,
      msgs: async () => rec.msgs,
      info: async () => ({ readyState: es.readyState, opens: rec.opens, errors: rec.errors }),
      statuses: () => rec.statuses,
      close: async () => es.close(),
    };
  },
};
const ctx = makeCtx(X, client);
const ISSUES = '/api/realtime/issues/stream';
// {"type":"error","code":CODE,"retryAfter":ms} (+ the timestamp every
// message may carry, SPEC §7), retryAfter = the retry: before it.
function assertErrorMsg(m, code, retry) {
  assert.ok(m.json, `not JSON: ${m.data}`);
  for (const k of Object.keys(m.json)) {
    assert.ok(['type', 'code', 'retryAfter', 'timestamp'].includes(k), `unexpected key ${k}: ${m.data}`);
  }
  assert.equal(m.json.type, 'error', m.data);
  assert.equal(m.json.code, code, m.data);
  assert.equal(typeof m.json.retryAfter, 'number', m.data);
  assert.equal(m.json.retryAfter, Number(retry), `retryAfter = retry: ${retry}`);
  if ('timestamp' in m.json) assert.match(m.json.timestamp, RFC3339MS, 'timestamp');
}
const bearer = (t) => ({ authorization: `Bearer ${t}` });

// A brand-new event log: the initial snapshot includes no event (eventId
// 0); doc/sse.md still gives it the id of the last event it includes.
await check('empty event log: initial has eventId 0 and id: 0', async () => {
  assert.equal(S.lastEventId(), 0, 'no event yet');
  const s = await rawStream(`${fronts[0].base}${ISSUES}`, { headers: bearer(ctx.tok('empty')) });
  try {
    await waitFor(() => s.msgs.length >= 1, 5000, 'initial');
    assert.equal(s.msgs[0].json?.type, 'initial', s.msgs[0].data);
    assert.equal(s.msgs[0].json.eventId, 0, 'eventId 0');
    assert.equal(s.msgs[0].id, '0', `id: line ${JSON.stringify(s.msgs[0].fields)}`);
  } finally { s.close(); }
});
// From here on the log is not empty.
await ctx.issue(fronts[0], (await ctx.place(fronts[0], 1)).buildings[0]);

for (const fe of fronts) {
  const P = `${fe.name} raw`;

  await check(`${P}: 200 text/event-stream, retry: 3000 first, then initial with id:`, async () => {
    const pl = await ctx.place(fe, 1);
    const t = ctx.tok('wire');
    const s = await rawStream(`${fe.base}${ISSUES}?campusId=${pl.campus}`, { headers: bearer(t) });
    try {
      assert.equal(s.status, 200, `status ${s.status} ${s.text}`);
      assert.match(s.headers.get('content-type') || '', /^text\/event-stream/, 'Content-Type');
      assert.equal(s.headers.get('cache-control'), 'no-cache', 'Cache-Control');
      assert.equal(s.headers.get('x-accel-buffering'), 'no', 'X-Accel-Buffering');
      await waitFor(() => s.msgs.length >= 1, 5000, 'the first message');
      assert.equal(s.lines[0], 'retry: 3000', `first line ${JSON.stringify(s.lines.slice(0, 3))}`);
      const m = s.msgs[0];
      assert.equal(m.json?.type, 'initial', `first message ${m.data.slice(0, 200)}`);
      assert.ok(m.hasId, 'initial has an id: line');
      assert.equal(m.id, String(m.json.eventId), 'id: = eventId');
      assert.deepEqual(m.fields, ['id', 'data'], `one id: and one data: line, got ${m.fields}`);
      assert.ok(!s.lines.some((l) => l.startsWith('event:')), 'no event: lines');
      // ?token= works too (what a browser sends)
      const q = await rawStream(`${fe.base}${ISSUES}?campusId=${pl.campus}&token=${t}`);
      try {
        assert.equal(q.status, 200, `?token=: ${q.status} ${q.text}`);
        await waitFor(() => q.msgs.length >= 1, 5000, 'initial with ?token=');
        assert.equal(q.msgs[0].json?.type, 'initial');
      } finally { q.close(); }
    } finally { s.close(); }
  });

  await check(`${P}: heartbeats carry no id: line`, async () => {
    const s = await rawStream(`${fe.base}${ISSUES}`, { headers: bearer(ctx.tok('hbraw')) });
    try {
      await waitFor(() => s.msgs.filter((m) => m.json?.type === 'heartbeat').length >= 2, 5000, '2 heartbeats');
      for (const m of s.msgs.filter((x) => x.json?.type === 'heartbeat')) {
        assert.deepEqual(m.fields, ['data'], `heartbeat fields ${m.fields}`);
      }
    } finally { s.close(); }
  });

  await check(`${P}: bad token 401, other organization 403, bad filter 400 (plain JSON)`, async () => {
    const r401 = await rawStream(`${fe.base}${ISSUES}`, { headers: bearer('x.y.z') });
    assert.equal(r401.status, 401, `bad token: ${r401.status} ${r401.text}`);
    assert.equal(r401.json?.error?.code, 'unauthorized', r401.text);
    const r403 = await rawStream(`${fe.base}${ISSUES}?organizationId=${S.env.ORG_A}`,
      { headers: bearer(ctx.tok('b', { org: S.env.ORG_B })) });
    assert.equal(r403.status, 403, `other org: ${r403.status} ${r403.text}`);
    assert.match(r403.headers.get('content-type') || '', /^application\/json/);
    assert.deepEqual(Object.keys(r403.json?.error || {}).sort(), ['code', 'message'], r403.text);
    assert.equal(r403.json.error.code, 'forbidden', r403.text);
    const r400 = await rawStream(`${fe.base}${ISSUES}?priorities=urgent`, { headers: bearer(ctx.tok('bad')) });
    assert.equal(r400.status, 400, `bad filter: ${r400.status} ${r400.text}`);
    assert.equal(r400.json?.error?.code, 'bad_request', r400.text);
    assert.ok(r400.json.error.message.includes('priorities'), `names the parameter: ${r400.text}`);
  });

  await check(`${P}: 4th stream: 200, retry: 5000, one rate_limited error without id:, then the end`, async () => {
    const t = ctx.tok('rlraw');
    const held = [];
    try {
      for (let i = 0; i < 3; i++) {
        const s = await rawStream(`${fe.base}${ISSUES}`, { headers: bearer(t) });
        held.push(s);
        assert.equal(s.status, 200, `stream ${i + 1}: ${s.status} ${s.text}`);
        await waitFor(() => s.msgs.length >= 1, 5000, `initial of stream ${i + 1}`);
      }
      const s4 = await rawStream(`${fe.base}${ISSUES}`, { headers: bearer(t) });
      held.push(s4);
      assert.equal(s4.status, 200, `4th: ${s4.status} ${s4.text}`);
      await waitFor(() => s4.ended, 5000, 'the end of the 4th response');
      assert.deepEqual(s4.retries, ['5000'], `retry lines ${s4.retries}`);
      assert.equal(s4.msgs.length, 1, `one message: ${s4.msgs.map((m) => m.data)}`);
      const m = s4.msgs[0];
      assert.equal(m.retry, '5000', 'retry: comes before the message');
      assert.equal(m.hasId, false, 'no id: line');
      assertErrorMsg(m, 'rate_limited', s4.retries[0]);
    } finally { for (const s of held) s.close(); }
  });

  await check(`${fe.name} node: drop, 3 creates, reconnect with Last-Event-ID: exactly those 3`, async () => {
    const pl = await ctx.place(fe, 1);
    const other = await ctx.place(fe, 1);
    const t = ctx.tok('resume');
    const h1 = await client.open(fe, ISSUES, { campusId: pl.campus }, { token: t });
    let init;
    try { init = await ctx.initialOf(h1, 'first connection'); } finally { await h1.close(); }
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push((await ctx.issue(fe, pl.buildings[0])).json.id);
      if (i === 1) await ctx.issue(fe, other.buildings[0]);	// not in the filter
    }
    const ids = made.map((id) => eventIdOf(S, 'issue:created', id));
    const h2 = await client.open(fe, ISSUES, { campusId: pl.campus }, { token: t, lastEventId: init.lastEventId });
    try {
      await waitFor(async () => (await h2.msgs()).filter((m) => m.data?.type === 'created').length >= 3,
        5000, '3 replayed creates');
      await sleep(500);
      const seen = nonHeartbeat((await h2.msgs()).map((m) => ({ ...m, json: m.data })));
      assert.deepEqual(seen.map((m) => [m.data.type, m.data.data?.id, m.lastEventId]),
        made.map((id, i) => ['created', id, String(ids[i])]), `resumed: ${JSON.stringify(seen.map((m) => m.data.type))}`);
      assert.equal(h2.rec.requests[0]['Last-Event-ID'], init.lastEventId, 'the request carried Last-Event-ID');
    } finally { await h2.close(); }
    // ?lastEventId= does the same.
    const q = await rawStream(`${fe.base}${ISSUES}?campusId=${pl.campus}&lastEventId=${init.lastEventId}`,
      { headers: bearer(t) });
    try {
      await waitFor(() => nonHeartbeat(q.msgs).length >= 3, 5000, '3 replayed creates (?lastEventId=)');
      await sleep(300);
      assert.deepEqual(nonHeartbeat(q.msgs).map((m) => [m.json?.type, m.id]),
        ids.map((id) => ['created', String(id)]), '?lastEventId= replays the same 3');
    } finally { q.close(); }
  });

  await commonCases(ctx, fe, { check });
}

// Both ciis-api processes deliver an event committed through either.
await check('two ciis-api processes (lighttpd, Apache) both deliver events committed through either', async () => {
  const [lt, ap] = fronts;
  const pl = await ctx.place(lt, 1);
  const t = ctx.tok('two');
  const hl = await client.open(lt, ISSUES, { campusId: pl.campus }, { token: t });
  const ha = await client.open(ap, ISSUES, { campusId: pl.campus }, { token: t });
  try {
    await ctx.initialOf(hl, 'lighttpd stream');
    await ctx.initialOf(ha, 'Apache stream');
    for (const via of [lt, ap]) {
      const r = await ctx.issue(via, pl.buildings[0]);
      const ev = eventIdOf(S, 'issue:created', r.json.id);
      for (const [h, name] of [[hl, 'lighttpd'], [ha, 'apache']]) {
        const m = await waitFor(async () => (await h.msgs()).find((x) => x.data?.data?.id === r.json.id),
          3000, `the create via ${via.name} on the ${name} stream`);
        assert.equal(m.data.eventId, ev, `${name} stream: eventId`);
        assert.ok(m.at - r.at <= 1000, `${name} stream got the create via ${via.name} ${m.at - r.at} ms after its 201`);
      }
    }
  } finally {
    await hl.close();
    await ha.close();
  }
});

// An updateInterval under 5000 is raised to 5000: no periodic update
// within 3.5 s of the initial (both front ends at once).
await check('heatmap updateInterval=1000 is raised to 5000 (no update within 3.5 s)', async () => {
  await Promise.all(fronts.map(async (fe) => {
    const pl = await ctx.place(fe, 1);
    const h = await client.open(fe, '/api/realtime/heatmap/stream', { campusId: pl.campus, updateInterval: '1000' },
      { token: ctx.tok('heat1000') });
    try {
      const init = await ctx.initialOf(h, `${fe.name} heatmap`);
      await sleep(Math.max(0, init.at + 3500 - Date.now()));
      const seen = (await h.msgs()).filter((m) => m.data?.type !== 'heartbeat').map((m) => m.data.type);
      assert.deepEqual(seen, ['initial'], `${fe.name}: ${seen}`);
    } finally { await h.close(); }
  }));
});

// /api/realtime/stats sums over both processes; /metrics answers loopback.
await check('GET /api/realtime/stats counts the streams of both processes', async () => {
  const [lt, ap] = fronts;
  const t = ctx.tok('stats');
  const s1 = await rawStream(`${lt.base}${ISSUES}`, { headers: bearer(t) });
  const s2 = await rawStream(`${ap.base}/api/realtime/heatmap/stream`, { headers: bearer(t) });
  try {
    await waitFor(() => s1.msgs.length && s2.msgs.length, 5000, 'both initials');
    for (const fe of fronts) {
      const r = await feApi(fe.base, 'GET', '/api/realtime/stats', { token: t });
      assert.equal(r.status, 200, `${fe.name}: ${r.status} ${r.text}`);
      const sse = r.json?.sse;
      assert.ok(sse, r.text);
      for (const k of ['streams', 'issueStreams', 'heatmapStreams', 'notificationStreams']) {
        assert.equal(typeof sse[k], 'number', `${fe.name}: sse.${k} in ${r.text}`);
      }
      assert.ok(sse.issueStreams >= 1 && sse.heatmapStreams >= 1 && sse.streams >= 2, `${fe.name}: ${r.text}`);
      assert.equal(r.json.events?.lastEventId, S.lastEventId(), `${fe.name}: events.lastEventId`);
    }
  } finally { s1.close(); s2.close(); }
});
await check('GET /metrics answers from loopback through both front ends', async () => {
  for (const fe of fronts) {
    const r = await feApi(fe.base, 'GET', '/metrics');
    assert.equal(r.status, 200, `${fe.name}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.match(r.headers.get('content-type') || '', /^text\/plain/, `${fe.name}: Content-Type`);
    assert.match(r.text, /^# (HELP|TYPE) /m, `${fe.name}: Prometheus text`);
  }
});

// Last: the database goes away; a stream opened now is a 200 with retry:
// and one "unavailable" error, then the end.
await check('database down at open: 200, retry:, one {"type":"error","code":"unavailable"}, end (both)', async () => {
  X.stopDb();
  for (const fe of fronts) {
    const s = await rawStream(`${fe.base}${ISSUES}`, { headers: bearer(S.T.viewer), connectMs: 20000 });
    try {
      assert.equal(s.status, 200, `${fe.name}: ${s.status} ${s.text}`);
      await waitFor(() => s.ended, 20000, `${fe.name}: the end of the response`);
      assert.equal(s.retries.length, 1, `${fe.name}: one retry: line, got ${s.retries}`);
      assert.match(s.retries[0], /^\d+$/, `${fe.name}: retry: ${s.retries[0]}`);
      const msgs = nonHeartbeat(s.msgs);
      assert.equal(msgs.length, 1, `${fe.name}: one message: ${s.msgs.map((m) => m.data)}`);
      assert.equal(msgs[0].hasId, false, `${fe.name}: no id:`);
      assertErrorMsg(msgs[0], 'unavailable', s.retries[0]);
    } finally { s.close(); }
  }
});

done();
process.exit();
