#!/usr/bin/env node
// Runs every test with node's built-in runner: unit specs beside the code (apps/*/src, libs/*/src) and
// integration/e2e/interop tests under test/. Usage: node test/run.mjs [path-filter ...]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const roots = ['apps', 'libs', 'test'];
const skip = new Set(['node_modules', '.next', 'dist', 'data', 'artifacts']);

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/\.(spec|test)\.ts$/.test(entry.name)) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => (fs.existsSync(path.join(root, r)) ? walk(path.join(root, r), []) : []))
  .map((f) => path.relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const args = [
  '-r',
  './scripts/register.cjs',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  '--test-reporter=spec',
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
