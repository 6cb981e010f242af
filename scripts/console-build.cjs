#!/usr/bin/env node
// Builds the admin console (apps/console, Next.js) that the server serves under its own URL.
// `--if-missing` (used by `npm start`): build only when there is no build yet, so the first start after
// `npm ci` builds it once (about a minute) and later starts are immediate. `npm run build` always rebuilds.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = path.resolve(__dirname, '../apps/console');
const built = fs.existsSync(path.join(dir, '.next', 'BUILD_ID'));
if (process.argv.includes('--if-missing') && built) process.exit(0);
console.log(
  built
    ? 'console: building apps/console (next build)'
    : 'console: no build of the admin console yet (apps/console/.next): building it once, about a minute…',
);
const next = require.resolve('next/dist/bin/next', { paths: [dir] });
const res = spawnSync(process.execPath, [next, 'build'], {
  cwd: dir,
  stdio: 'inherit',
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
});
if (res.status !== 0) {
  console.error('console: the build failed (see above)');
  process.exit(res.status ?? 1);
}
