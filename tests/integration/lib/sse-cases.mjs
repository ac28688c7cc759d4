// The SSE cases both real clients run through both front ends (doc/sse.md,
// SPEC §7 and §11).  A client adapter:
//
//   client.kind                      'node' | 'browser'
//   await client.open(fe, path, params, {token, tokenRef, lastEventId}) → h
//   await h.msgs()  → [{data: parsed JSON, lastEventId, at: ms}]
//   await h.info()  → {readyState, opens, errors}
//   await h.close()
//
// Every wait has a deadline; every case uses users and places of its own, so
// the per-user stream limit of one case never touches another.
import assert from 'node:assert/strict';
import { waitFor, sleep, feApi, eventIdOf, assertInitial, RFC3339MS, HEARTBEAT_SECONDS } from './sse.mjs';

const ISSUES = '/api/realtime/issues/stream';
const HEATMAP = '/api/realtime/heatmap/stream';
const real = (msgs) => msgs.filter((m) => m.data?.type !== 'heartbeat');
const brief = (msgs) => JSON.stringify(msgs.map((m) => ({ id: m.lastEventId, ...m.data,
  data: Array.isArray(m.data?.data) ? `[${m.data.data.length} items]` : m.data?.data?.id ?? m.data?.data })))
  .slice(0, 900);

let seq = 0;
export const tag = () => `${process.pid.toString(36)}${Date.now().toString(36)}${++seq}`;

export function makeCtx(X, client) {
  const { S } = X;
  const users = new Map();
  const tok = (what, opts = {}) => {
    const u = `u-${client.kind}-${what}-${tag()}`;
    const t = X.mint(u, opts);
    users.set(t, u);
    return t;
  };
  const open = (fe, path, params, opts) => client.open(fe, path, params, opts);
  async function place(fe, nBuildings = 2) {
    const c = await feApi(fe.base, 'POST', `/api/organizations/${S.env.ORG_A}/campuses`,
      { token: S.T.admin, body: { name: `sse campus ${tag()}` } });
    assert.equal(c.status, 201, `create campus: ${c.status} ${c.text}`);
    const buildings = [];
    for (let i = 0; i < nBuildings; i++) {
      const b = await feApi(fe.base, 'POST', `/api/campuses/${c.json.id}/buildings`,
        { token: S.T.admin, body: { name: `sse bldg ${tag()}` } });
      assert.equal(b.status, 201, `create building: ${b.status} ${b.text}`);
      buildings.push(b.json.id);
    }
    return { campus: c.json.id, buildings };
  }
  async function issue(fe, buildingId, fields = {}) {
    const r = await feApi(fe.base, 'POST', '/api/issues', {
      token: S.T.reporter, body: { title: `sse ${tag()}`, category: 'plumbing', buildingId, ...fields },
    });
    assert.equal(r.status, 201, `create issue via ${fe.name}: ${r.status} ${r.text}`);
    return r;
  }
  async function resolve(fe, id) {
    const r = await feApi(fe.base, 'POST', `/api/issues/${id}/resolve`,
      { token: S.T.staff, body: { resolution: 'fixed by the sse test' } });
    assert.equal(r.status, 200, `resolve ${id} via ${fe.name}: ${r.status} ${r.text}`);
    return r;
  }
  const initialOf = async (h, what, ms = 8000) => {
    const msgs = await waitFor(async () => { const m = await h.msgs(); return m.length ? m : null; },
      ms, `${what}: the first message`);
    assertInitial(msgs[0], what);
    return msgs[0];
  };
  return { S, X, client, tok, open, place, issue, resolve, initialOf };
}

// Messages of an issue event: type, id: = eventId = the events row.
function assertIssueMsg(ctx, m, type, change, issueId, what) {
  assert.ok(m, `${what}: missing`);
  assert.equal(m.data.type, type, `${what}: type ${JSON.stringify(m.data).slice(0, 300)}`);
  if (change) assert.equal(m.data.change, change, `${what}: change`);
  assert.equal(m.data.data?.id, issueId, `${what}: data.id`);
  const evType = { created: 'issue:created', resolved: 'issue:resolved', fields: 'issue:updated',
    assigned: 'issue:assigned', note: 'issue:note' }[change || 'created'];
  const ev = eventIdOf(ctx.S, evType, issueId);
  assert.equal(m.data.eventId, ev, `${what}: eventId = the ${evType} event's id`);
  assert.equal(m.lastEventId, String(ev), `${what}: id: line = eventId`);
  assert.match(String(m.data.timestamp), RFC3339MS, `${what}: timestamp`);
}

// ---- the cases ----------------------------------------------------------------

export async function commonCases(ctx, fe, { check }) {
  const { S, client } = ctx;
  const P = `${fe.name} ${client.kind}`;

  // 1 + 2: initial first (the list GET /api/issues gives), then a create
  // arrives within 1 s of its 201.
  {
    let h;
    const t = ctx.tok('initial');
    let pl;
    await check(`${P}: initial is the first message, = GET /api/issues for the filter`, async () => {
      pl = await ctx.place(fe, 1);
      const i0 = await ctx.issue(fe, pl.buildings[0], { priority: 'high' });
      const list = await feApi(fe.base, 'GET', `/api/issues?campusId=${pl.campus}`, { token: t });
      assert.equal(list.status, 200, list.text);
      h = await ctx.open(fe, ISSUES, { campusId: pl.campus }, { token: t });
      const init = await ctx.initialOf(h, 'initial');
      assert.deepEqual(init.data.data, list.json.items, 'initial.data = GET /api/issues items');
      assert.ok(init.data.eventId >= eventIdOf(S, 'issue:created', i0.json.id),
        `initial.eventId ${init.data.eventId} includes the create event`);
    });
    await check(`${P}: an issue created over REST arrives within 1 s of the 201`, async () => {
      assert.ok(h, 'no stream (previous check failed)');
      const r = await ctx.issue(fe, pl.buildings[0], { priority: 'medium' });
      const m = await waitFor(async () => (await h.msgs()).find((x) => x.data?.data?.id === r.json.id),
        3000, 'the created message');
      assertIssueMsg(ctx, m, 'created', null, r.json.id, 'created');
      assert.ok(m.at - r.at <= 1000, `created arrived ${m.at - r.at} ms after the 201`);
      assert.deepEqual(m.data.data, r.json, 'created.data = the 201 body');
      const seen = real(await h.msgs());
      assert.deepEqual(seen.map((x) => x.data.type), ['initial', 'created'], `messages: ${brief(seen)}`);
    });
    if (h) await h.close();
  }

  // 3: filters.
  await check(`${P}: campusId/buildingId/priorities/statuses keep out what they should`, async () => {
    const c1 = await ctx.place(fe, 2);
    const c2 = await ctx.place(fe, 1);
    const [b1, b2] = c1.buildings;
    const tA = ctx.tok('filterA');
    const tB = ctx.tok('filterB');
    const hA = await ctx.open(fe, ISSUES, { campusId: c1.campus, buildingId: b1,
      priorities: 'high,critical', statuses: 'open' }, { token: tA });
    const hB = await ctx.open(fe, ISSUES, { campusId: c1.campus, statuses: 'resolved' }, { token: tB });
    try {
      const iA = await ctx.initialOf(hA, 'stream A');
      const iB = await ctx.initialOf(hB, 'stream B');
      assert.deepEqual(iA.data.data, [], 'stream A initial: no issue yet');
      assert.deepEqual(iB.data.data, [], 'stream B initial: no issue yet');
      const x1 = (await ctx.issue(fe, c2.buildings[0], { priority: 'high' })).json;	// other campus
      const x2 = (await ctx.issue(fe, b2, { priority: 'high' })).json;	// A: other building
      const x3 = (await ctx.issue(fe, b1, { priority: 'low' })).json;	// A: priority
      const x4 = (await ctx.issue(fe, b1, { priority: 'critical' })).json;	// A
      await ctx.resolve(fe, x4.id);	// A (moved out) and B (moved in)
      await ctx.resolve(fe, x2.id);	// B only
      const x5 = (await ctx.issue(fe, b1, { priority: 'high' })).json;	// A: the sentinel
      await waitFor(async () => (await hA.msgs()).some((m) => m.data?.data?.id === x5.id), 3000,
        'the sentinel on stream A');
      await waitFor(async () => (await hB.msgs()).some((m) => m.data?.data?.id === x2.id), 3000,
        'the resolve of x2 on stream B');
      await sleep(400);
      const a = real(await hA.msgs()).slice(1);
      const b = real(await hB.msgs()).slice(1);
      assert.deepEqual(a.map((m) => [m.data.type, m.data.change ?? null, m.data.data?.id]),
        [['created', null, x4.id], ['updated', 'resolved', x4.id], ['created', null, x5.id]],
        `stream A (x1..x5 = ${[x1, x2, x3, x4, x5].map((x) => x.id)}): ${brief(a)}`);
      assert.deepEqual(b.map((m) => [m.data.type, m.data.change ?? null, m.data.data?.id]),
        [['updated', 'resolved', x4.id], ['updated', 'resolved', x2.id]],
        `stream B (x1..x5 = ${[x1, x2, x3, x4, x5].map((x) => x.id)}): ${brief(b)}`);
      assertIssueMsg(ctx, a[0], 'created', null, x4.id, 'A created x4');
      assertIssueMsg(ctx, a[1], 'updated', 'resolved', x4.id, 'A resolved x4');
      assertIssueMsg(ctx, a[2], 'created', null, x5.id, 'A created x5');
      assertIssueMsg(ctx, b[0], 'updated', 'resolved', x4.id, 'B resolved x4');
      assertIssueMsg(ctx, b[1], 'updated', 'resolved', x2.id, 'B resolved x2');
      assert.equal(a[1].data.data.status, 'resolved', 'the resolved issue says so');
      assert.equal(typeof a[1].data.resolution, 'string', 'updated/resolved carries "resolution"');
    } finally {
      await hA.close();
      await hB.close();
    }
  });

  // 5: another organization's stream.
  await check(`${P}: organizationId of orgA with orgB's token is refused; EventSource gives up`, async () => {
    const tb = ctx.tok('orgB', { org: S.env.ORG_B });
    const h = await ctx.open(fe, ISSUES, { organizationId: S.env.ORG_A }, { token: tb });
    try {
      await waitFor(async () => (await h.info()).readyState === 2, 5000, 'readyState CLOSED');
      await sleep(500);
      const info = await h.info();
      assert.equal(info.readyState, 2, 'stays CLOSED (no retry)');
      assert.equal(info.opens, 0, 'never opened');
      assert.ok(info.errors >= 1, 'an error event');
      assert.deepEqual(await h.msgs(), [], 'no message');
      if (h.statuses) assert.deepEqual(h.statuses(), [403], 'one request, answered 403');
    } finally {
      await h.close();
    }
  });

  // 7: heartbeats.
  await check(`${P}: heartbeats arrive every ${HEARTBEAT_SECONDS} s on an idle stream`, async () => {
    const pl = await ctx.place(fe, 1);
    const h = await ctx.open(fe, ISSUES, { campusId: pl.campus }, { token: ctx.tok('hb') });
    try {
      const init = await ctx.initialOf(h, 'heartbeat stream');
      const hb = await waitFor(async () => {
        const b = (await h.msgs()).filter((m) => m.data?.type === 'heartbeat');
        return b.length >= 3 ? b : null;
      }, 3000 * HEARTBEAT_SECONDS + 2000, '3 heartbeats');
      for (const m of hb) {
        assert.deepEqual(Object.keys(m.data).sort(), ['timestamp', 'type'], `heartbeat ${JSON.stringify(m.data)}`);
        assert.match(m.data.timestamp, RFC3339MS, 'heartbeat timestamp');
      }
      const gaps = hb.slice(1).map((m, i) => m.at - hb[i].at);
      assert.ok(hb[0].at - init.at >= 500 * HEARTBEAT_SECONDS, `first heartbeat ${hb[0].at - init.at} ms after initial`);
      for (const g of gaps) {
        assert.ok(g >= 500 * HEARTBEAT_SECONDS && g <= 2500 * HEARTBEAT_SECONDS, `heartbeat gaps ${gaps} ms`);
      }
      assert.deepEqual(real(await h.msgs()).map((m) => m.data.type), ['initial'], 'nothing else');
    } finally {
      await h.close();
    }
  });

  // 8: token expiry.
  await check(`${P}: token expiry ends the stream with {"type":"expired"}`, async () => {
    const pl = await ctx.place(fe, 1);
    const t = ctx.tok('exp', { ttl: 3 });
    const exp = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()).exp * 1000;
    const tokenRef = { token: t };
    const h = await ctx.open(fe, ISSUES, { campusId: pl.campus }, { token: t, tokenRef });
    try {
      await ctx.initialOf(h, 'expiring stream');
      const m = await waitFor(async () => (await h.msgs()).find((x) => x.data?.type === 'expired'),
        exp - Date.now() + 3000, 'the expired message');
      assert.ok(m.at >= exp - 1000, `expired ${exp - m.at} ms before exp`);
      assert.ok(m.at <= exp + 2500, `expired ${m.at - exp} ms after exp`);
      for (const k of Object.keys(m.data)) assert.ok(['type', 'timestamp'].includes(k), `expired carries ${k}`);
      assert.equal(m.data.eventId, undefined, 'expired has no eventId');
      if (client.kind === 'node') {
        // The doc's promise: come back with a fresh token and Last-Event-ID,
        // miss nothing.  eventsource reconnects after retry: 3000.
        tokenRef.token = ctx.tok('exp2');
        const r = await ctx.issue(fe, pl.buildings[0]);
        const c = await waitFor(async () => (await h.msgs()).find((x) => x.data?.data?.id === r.json.id),
          7000, 'the create made while the stream was down, after the reconnect');
        assertIssueMsg(ctx, c, 'created', null, r.json.id, 'resumed create');
        const seen = real(await h.msgs());
        assert.deepEqual(seen.map((x) => x.data.type), ['initial', 'expired', 'created'],
          `no second initial on resume: ${brief(seen)}`);
        assert.equal((await h.info()).opens, 2, 'opened twice');
      } else {
        // The browser comes back with the same ?token=, now expired: 401,
        // and a native EventSource gives up for good.
        await waitFor(async () => (await h.info()).readyState === 2, 8000, 'readyState CLOSED after the 401');
        const seen = real(await h.msgs());
        assert.deepEqual(seen.map((x) => x.data.type), ['initial', 'expired'], brief(seen));
      }
    } finally {
      await h.close();
    }
  });

  // 6: the 4th stream of a user, and the retry once a slot is free.
  await check(`${P}: the 4th stream of a user gets rate_limited, retries by itself and succeeds`, async () => {
    const pl = await ctx.place(fe, 1);
    const t = ctx.tok('rl');
    const hs = [];
    try {
      for (let i = 0; i < 3; i++) {
        hs.push(await ctx.open(fe, ISSUES, { campusId: pl.campus }, { token: t }));
        await ctx.initialOf(hs[i], `stream ${i + 1} of 3`);
      }
      const h4 = await ctx.open(fe, ISSUES, { campusId: pl.campus }, { token: t });
      hs.push(h4);
      const e = await waitFor(async () => (await h4.msgs())[0], 5000, 'the 4th stream\'s message');
      assert.equal(e.data.type, 'error', `4th stream: ${JSON.stringify(e.data)}`);
      assert.equal(e.data.code, 'rate_limited', `4th stream: ${JSON.stringify(e.data)}`);
      assert.equal(typeof e.data.retryAfter, 'number', 'retryAfter is a number (ms)');
      assert.ok(e.data.retryAfter > 0, 'retryAfter > 0');
      const t0 = Date.now();
      await hs[0].close();	// a slot frees once the server sees it gone
      const init = await waitFor(async () => (await h4.msgs()).find((x) => x.data?.type === 'initial'),
        16000, 'the initial of the 4th stream after its retry');
      assertInitial(init, '4th stream after retry');
      assert.ok(init.at - e.at >= 4000, `retried ${init.at - e.at} ms after the error (retry: 5000)`);
      const seen = real(await h4.msgs());
      assert.equal(seen[0].data.type, 'error');
      assert.equal(seen[seen.length - 1].data.type, 'initial', brief(seen));
      assert.ok(seen.every((m) => m.data.type === 'initial' || m.data.code === 'rate_limited'), brief(seen));
      console.log(`# ${P}: 4th stream served ${init.at - t0} ms after a slot was freed`);
    } finally {
      for (const h of hs) await h.close();
    }
  });

  // 10: heatmap stream.
  await check(`${P}: heatmap initial, coalesced update within 1.5 s, periodic update (5000 ms)`, async () => {
    const pl = await ctx.place(fe, 2);
    const t = ctx.tok('heat');
    const h = await ctx.open(fe, HEATMAP, { campusId: pl.campus, updateInterval: '5000' }, { token: t });
    try {
      const init = await ctx.initialOf(h, 'heatmap');
      const snap = await feApi(fe.base, 'GET', `/api/heatmap?campusId=${pl.campus}`, { token: t });
      assert.equal(snap.status, 200, snap.text);
      const strip = (o) => { const c = structuredClone(o); delete c.generatedAt; return c; };
      assert.deepEqual(strip(init.data.data), strip(snap.json), 'initial.data = GET /api/heatmap');
      assert.equal(init.lastEventId, String(init.data.data.lastEventId), 'initial id: = heatmap lastEventId');
      const [b1] = pl.buildings;
      const r1 = await ctx.issue(fe, b1, { priority: 'high' });
      await ctx.issue(fe, b1, { priority: 'low' });
      const r3 = await ctx.issue(fe, b1, { priority: 'critical' });
      const spread = r3.at - r1.at;
      const u1 = await waitFor(async () => (await h.msgs()).find((x) => x.data?.type === 'update'),
        3000, 'an update after the change');
      assert.ok(u1.at - r1.at <= 1500, `update ${u1.at - r1.at} ms after the first change's 201`);
      await sleep(Math.max(0, r1.at + 2200 - Date.now()));
      const ups = (await h.msgs()).filter((x) => x.data?.type === 'update');
      assert.equal(ups.length, 1, `3 changes within ${spread} ms: one update, got ${ups.length}`);
      const bl = u1.data.data.buildings.find((b) => b.buildingId === b1);
      assert.ok(bl, 'the building is listed');
      assert.equal(bl.openIssues, 3, `openIssues ${JSON.stringify(bl)}`);
      assert.equal(bl.weight, 8, 'weight 3+1+4');
      assert.deepEqual(bl.byPriority, { low: 1, medium: 0, high: 1, critical: 1 }, 'byPriority');
      assert.equal(u1.data.data.buildings.length, 2, 'both buildings (zeros included)');
      const lastHeat = Number(S.dbValue(`SELECT MAX(id) FROM events WHERE type = 'heatmap:updated' AND building_id = '${b1}'`));
      assert.equal(u1.lastEventId, String(u1.data.data.lastEventId), 'update id: = its lastEventId');
      assert.ok(u1.data.data.lastEventId >= lastHeat, `update includes event ${lastHeat}`);
      const u2 = await waitFor(async () => (await h.msgs()).filter((x) => x.data?.type === 'update')[1],
        7000, 'the periodic update');
      const fromInit = u2.at - init.at;
      const fromU1 = u2.at - u1.at;
      assert.ok((fromInit >= 4300 && fromInit <= 6000) || (fromU1 >= 4300 && fromU1 <= 6000),
        `periodic update ${fromInit} ms after initial, ${fromU1} ms after the last update`);
      const strip2 = (o) => { const c = strip(o); delete c.lastEventId; return c; };
      assert.deepEqual(strip2(u2.data.data), strip2(u1.data.data), 'nothing changed in between');
      assert.deepEqual(real(await h.msgs()).map((m) => m.data.type), ['initial', 'update', 'update']);
    } finally {
      await h.close();
    }
  });
}
