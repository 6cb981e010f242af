/**
 * The agent launcher's lean TypeScript loader (scripts/ts-cache.cjs): after `npm ci` (its `prepare` script)
 * the agent loads without the compiler; a source edited since is compiled on the spot, never served stale.
 * Each case runs in a fresh node process, as the launcher does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const TS_CACHE = path.join(ROOT, 'scripts', 'ts-cache.cjs');

/** Runs `script` in a new node process with the lean loader installed; returns its JSON output. */
function withLoader(script: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(TS_CACHE)}).install();\n${script}`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

const compilerLoaded = `Object.keys(require.cache).some((f) => /@swc[\\\\/]core|[\\\\/]typescript[\\\\/]/.test(f))`;

test('npm ci leaves every agent source compiled: the agent and the peer core load without the compiler', () => {
  const { written } = withLoader(
    `console.log(JSON.stringify({ written: require(${JSON.stringify(TS_CACHE)}).precompile() }))`,
  );
  assert.equal(typeof written, 'number');
  const out = withLoader(
    `const main = require('./apps/agent/src/main.ts'); const core = require('@enclave/core');
     console.log(JSON.stringify({ cli: typeof main.cli, peer: typeof core.EnclavePeer, compiler: ${compilerLoaded} }))`,
  );
  assert.deepEqual(out, { cli: 'function', peer: 'function', compiler: false });
});

test('a source that changed since it was cached (or was never cached) is compiled, not served stale', () => {
  const dir = fs.mkdtempSync(path.join(ROOT, 'test', 'artifacts-ts-cache-'));
  try {
    const file = path.join(dir, 'answer.ts');
    fs.writeFileSync(file, 'export const answer: number = 41;\n');
    const first = withLoader(
      `console.log(JSON.stringify({ answer: require(${JSON.stringify(file)}).answer, compiler: ${compilerLoaded} }))`,
    );
    assert.deepEqual(first, { answer: 41, compiler: true });
    // A cached compilation of the file's old text, with the old text's stamp: must not be used for the new text.
    const cached = path.join(ROOT, 'node_modules', '.cache', 'enclave-ts', `${path.relative(ROOT, file)}.js`);
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    const oldHash = createHash('sha1').update('export const answer: number = 41;\n').digest('hex');
    fs.writeFileSync(cached, `exports.answer = 41;\n//# enclave-ts-source=${oldHash}\n`);
    assert.deepEqual(
      withLoader(
        `console.log(JSON.stringify({ answer: require(${JSON.stringify(file)}).answer, compiler: ${compilerLoaded} }))`,
      ),
      { answer: 41, compiler: false },
      'the cached compilation is used while the source is unchanged',
    );
    fs.writeFileSync(file, 'export const answer: number = 42;\n');
    assert.deepEqual(
      withLoader(
        `console.log(JSON.stringify({ answer: require(${JSON.stringify(file)}).answer, compiler: ${compilerLoaded} }))`,
      ),
      { answer: 42, compiler: true },
    );
    fs.rmSync(cached, { force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
