// SSE in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core; no browser download): the browser's own EventSource, on
// a page on the same origin as the stream (the front end's), token
// in ?token= as a browser must.  Each case runs through lighttpd (shipped
// lighttpd/ciis.conf) and Apache (shipped apache-conf/ciis-proxy-fcgi.conf)
// on a private stack (lib/sse.mjs) with sse.heartbeat_seconds = 1.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need as npm } from './lib/npm.mjs';
import { sseStack, waitFor, eventIdOf } from './lib/sse.mjs';
import { makeCtx, commonCases } from './lib/sse-cases.mjs';

const CHROMIUM = process.env.CIIS_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  const ci = !!process.env.CI;
  console.log(`${ci ? 'ERROR' : 'SKIP'}: ${CHROMIUM} is not installed (apt-get install chromium)`);
  process.exit(ci ? 99 : 77);
}
const { chromium } = npm('playwright-core');
const X = await sseStack();
const { S, fronts } = X;
const { check, done } = S;

// The page: a few globals that drive native EventSources.
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>ciis SSE test</title>
<script>
window.sseRec = {};
let n = 0;
window.sseOpen = (url) => {
  const id = ++n;
  const rec = { msgs: [], opens: [], errors: 0, es: new EventSource(url) };
  rec.es.onopen = () => rec.opens.push(Date.now());
  rec.es.onerror = () => { rec.errors++; };
  rec.es.onmessage = (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch (x) { data = { unparsable: e.data }; }
    rec.msgs.push({ data, lastEventId: e.lastEventId, at: Date.now() });
  };
  sseRec[id] = rec;
  return id;
};
window.sseMsgs = (id) => sseRec[id].msgs;
window.sseInfo = (id) => ({ readyState: sseRec[id].es.readyState, opens: sseRec[id].opens.length,
  openTimes: sseRec[id].opens, errors: sseRec[id].errors });
window.sseClose = (id) => sseRec[id].es.close();
</script>
<p>ciis SSE test page</p>
`;

const userData = mkdtempSync(join(tmpdir(), 'ciis-chromium-'));
let browser;
process.on('exit', () => { if (!process.env.CIIS_KEEP_TMP) rmSync(userData, { recursive: true, force: true }); });
try {
  browser = await chromium.launchPersistentContext(userData, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
} catch (e) {
  console.log(`not ok - launch ${CHROMIUM}: ${e.message.split('\n')[0]}`);
  process.exit(1);
}

const pages = new Map();
async function pageOf(fe) {
  if (!pages.has(fe.name)) {
    const p = await browser.newPage();
    // The page's document is handed to the browser for the front end's
    // own origin (the tests' lighttpd config has no mimetype.assign, so a
    // served .html would be a download); its EventSources are real
    // same-origin requests to the front end.
    await p.route(`${fe.base}/sse.html`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }));
    const r = await p.goto(`${fe.base}/sse.html`, { timeout: 15000 });
    assert.equal(r.status(), 200, `${fe.name}: /sse.html → ${r.status()}`);
    await p.waitForFunction(() => typeof window.sseOpen === 'function', null, { timeout: 5000 });
    pages.set(fe.name, p);
  }
  return pages.get(fe.name);
}

// The adapter of lib/sse-cases.mjs: same-origin relative URL, ?token=.
const client = {
  kind: 'browser',
  async open(fe, path, params = {}, { token } = {}) {
    const page = await pageOf(fe);
    const url = `${path}?${new URLSearchParams({ ...params, token })}`;
    const id = await page.evaluate((u) => window.sseOpen(u), url);
    return {
      msgs: () => page.evaluate((i) => window.sseMsgs(i), id),
      info: () => page.evaluate((i) => window.sseInfo(i), id),
      close: () => page.evaluate((i) => window.sseClose(i), id),
    };
  },
};
const ctx = makeCtx(X, client);
// The event log is not empty (t-sse-node checks the empty-log initial).
await ctx.issue(fronts[0], (await ctx.place(fronts[0], 1)).buildings[0]);
const ISSUES = '/api/realtime/issues/stream';

try {
  for (const fe of fronts) {
    const other = fronts.find((f) => f !== fe);
    await check(`${fe.name} browser: the test page loads from the front end`, async () => { await pageOf(fe); });

    await commonCases(ctx, fe, { check });

    // The connection drops (the front end goes away); 3 issues are created
    // meanwhile through the other one; the browser reconnects by itself
    // with Last-Event-ID and receives exactly those 3, no initial.
    await check(`${fe.name} browser: connection dropped, 3 creates, the browser resumes with exactly those 3`, async () => {
      const pl = await ctx.place(fe, 1);
      const noise = await ctx.place(other, 1);
      const h = await client.open(fe, ISSUES, { campusId: pl.campus }, { token: ctx.tok('resume') });
      try {
        await ctx.initialOf(h, 'before the drop');
        X.stopFront(fe.name);
        const made = [];
        let last201 = 0;
        for (let i = 0; i < 3; i++) {
          const r = await ctx.issue(other, pl.buildings[0]);
          made.push(r.json.id);
          last201 = r.at;
          if (i === 0) await ctx.issue(other, noise.buildings[0]);	// not in the filter
        }
        X.startFront(fe.name);
        const ids = made.map((id) => eventIdOf(S, 'issue:created', id));
        await waitFor(async () => (await h.msgs()).filter((m) => m.data?.type === 'created').length >= 3,
          15000, 'the 3 creates after the browser reconnected');
        await new Promise((r) => setTimeout(r, 500));
        const seen = (await h.msgs()).filter((m) => m.data?.type !== 'heartbeat');
        assert.deepEqual(seen.map((m) => [m.data.type, m.data.data?.id ?? null, m.lastEventId]),
          [['initial', null, seen[0].lastEventId], ...made.map((id, i) => ['created', id, String(ids[i])])],
          `after the reconnect: ${JSON.stringify(seen.map((m) => m.data.type))}`);
        const info = await h.info();
        assert.equal(info.opens, 2, `opened ${info.opens} times`);
        assert.ok(info.openTimes[1] > last201, 'the reconnect came after the creates (a replay, not live)');
      } finally {
        await h.close();
      }
    });
  }
  // The browsers sent ?token= on every stream: the shipped configs' access
  // logs record the paths without query strings.
  await check('access logs of both front ends hold the stream paths but no token=, ciis-api logs no token', async () => {
    for (const [fe, f] of [['lighttpd', 'access.log'], ['apache', 'apache-access.log']]) {
      const text = readFileSync(join(X.dir, f), 'utf8');
      assert.match(text, /GET \/api\/realtime\/issues\/stream HTTP/, `${fe}: ${f} logs the stream requests`);
      assert.ok(!/token=|[?&]campusId=/.test(text), `${fe}: ${f} holds a query string: ${
        text.split('\n').find((l) => /token=|campusId=/.test(l))}`);
    }
    // ciis-api's own logs (lighttpd's stderr; the Apache one's) redact it.
    for (const f of ['lighttpd.log', 'apache-api.log']) {
      const text = readFileSync(join(X.dir, f), 'utf8');
      const leak = text.split('\n').find((l) => /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./.test(l));
      assert.equal(leak, undefined, `${f} holds a token`);
    }
  });
} finally {
  await browser.close().catch(() => {});
}
done();
process.exit();
