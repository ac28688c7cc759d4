// ciis-relay with MySQL away (SPEC §8, ARCHITECTURE "ciis-relay"): on a
// private stack, Socket.IO and /ws clients subscribed to a campus stay
// connected while MariaDB is stopped, the relay keeps answering (health,
// pings; a subscription it cannot check is answered "unavailable"), and
// once MariaDB is back every issue committed reaches them exactly once,
// in order, also those committed before the relay's tailer noticed; the
// socket changes queued meanwhile (presence rows, sessions) are written
// then.  The relay stops cleanly afterwards.
import { sseStack } from './lib/sse.mjs';
import {
  relayBin, startRelay, relayFront, waitFor, sleep, ack, issueEvents, wsAbout,
} from './lib/relay-cases.mjs';

relayBin();
const X = await sseStack();
const { S } = X;
const { check, done, env, assert, api } = S;

const R = await startRelay({ conf: env.CIIS_CONF });
process.on('exit', (code) => { if (code || process.exitCode) console.log(R.tail()); });
const f = relayFront({ name: 'outage', url: R.url, rest: api, S });
const { campus, b } = await f.place(1);
const other = await f.place(1);
const s = await f.connect(f.tok('sio'), { transports: ['websocket'] });
const p = await f.connect(f.tok('poll'), { transports: ['polling'] });
for (const x of [s, p]) assert.equal((await ack(x, 'subscribe:campus', { campusId: campus.id })).ok, true);
const w = await f.wsOpen(`?token=${f.tok('ws')}`);
w.send(JSON.stringify({ event: 'subscribe:campus', data: { campusId: campus.id }, ackId: 1 }));
await waitFor('the /ws ack', () => w.msgs.some((m) => m.ackId === 1 && m.data.ok));
let drops = 0;
for (const x of [s, p]) x.on('disconnect', () => { drops++; });
let wClosed = null;
w.closed.then((c) => { wClosed = c; });

await check('MariaDB stopped: the clients stay connected, the relay answers health and refuses what needs the database with "unavailable"', async () => {
  X.stopDb();
  await sleep(4000);			// past a tail poll, a flush retry and a ping
  assert.equal(drops, 0, 'no Socket.IO disconnect');
  assert.equal(wClosed, null, '/ws still open');
  assert.equal(s.connected && p.connected, true);
  const h = await fetch(`${R.url}/health/websocket`);
  assert.equal(h.status, 200);
  assert.deepEqual(await ack(s, 'subscribe:campus', { campusId: other.campus.id }),
    { ok: false, error: 'unavailable' });
  // a connection opened meanwhile is admitted: its token needs no database
  const late = await f.connect(f.tok('late'), { transports: ['websocket'] });
  late.close();
});

await check('MariaDB back: the issues committed from then on reach every client exactly once, in order', async () => {
  X.startDb();
  // the first ones go in as soon as ciis-api can write, before the relay's tailer is back
  const ids = [];
  for (let i = 0; i < 5; i++) {
    for (let t = 0; ; t++) {
      try { ids.push(String((await f.mkIssue(b.id)).id)); break; } catch (e) {
        if (t > 100) throw e;
        await sleep(100);
      }
    }
  }
  for (const x of [s, p]) {
    await waitFor('the 5 issues', () => issueEvents(x).length >= 5, 15000);
    await sleep(300);
    assert.deepEqual(issueEvents(x).filter((e) => e.name === 'issue:created').map((e) => String(e.args[0].issue.id)), ids);
  }
  await waitFor('the 5 on /ws', () => ids.every((id) => wsAbout(w, id).length === 1), 15000);
  assert.equal(drops, 0, 'nobody was disconnected');
  // what was queued while away was written: the late socket's session, closed
  await waitFor('the late session', () => S.dbValue("SELECT COUNT(*) FROM relay_sessions WHERE user_id LIKE 'u-relay-outage-late-%' AND process_id IS NULL") === '1', 10000);
  assert.equal(S.dbValue("SELECT COUNT(*) FROM presence WHERE user_id LIKE 'u-relay-outage-late-%'"), '0', 'its presence row opened and closed');
});

await check('the relay then stops cleanly on SIGTERM', async () => {
  f.closeAll();
  assert.deepEqual(await R.stop(), { code: 0, sig: null });
  assert.equal(R.sanitizer(), false, R.log());
});
done();
