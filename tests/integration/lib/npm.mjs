// The npm clients of package.json (ws, socket.io-client, eventsource,
// playwright-core), found through CIIS_NODE_MODULES (set by
// scripts/check-all; distcheck's copy of the tree has no node_modules) or
// the source tree's own node_modules.  A missing one skips the test on a
// developer machine (77) and fails it in CI (99), like require_tool.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const dirs = [process.env.CIIS_NODE_MODULES, process.env.top_srcdir && join(process.env.top_srcdir, 'node_modules')]
  .filter((d) => d && existsSync(d));

export function need(name) {
  for (const d of dirs) {
    try {
      return createRequire(join(d, 'noop.js'))(name);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  const ci = !!process.env.CI;
  console.log(`${ci ? 'FAIL' : 'SKIP'}: npm package ${name} is missing (run npm ci at the top of the tree)`);
  process.exit(ci ? 99 : 77);
}
