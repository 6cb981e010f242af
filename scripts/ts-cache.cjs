'use strict';
// A lean TypeScript loader for long-running processes that must stay small (the agent daemon).
//
// `node scripts/ts-cache.cjs` (run by `npm ci` / `npm install` as the root `prepare` script) compiles the
// agent's sources (apps/agent/src, libs/*/src, without tests) with the same SWC settings as
// scripts/register.cjs, into node_modules/.cache/enclave-ts/. install() then loads `.ts` files from there:
// neither SWC's native binding nor the TypeScript compiler (which @swc-node/register loads to read
// tsconfig.json) is loaded, which saves about 70 MiB of resident memory per process. Every cached file
// ends with the SHA-1 of the source it was compiled from; a file whose source changed since (or that was
// never compiled) is compiled on the spot with SWC, so a stale cache costs memory, never correctness.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'enclave-ts');
const SOURCES = ['apps/agent/src', 'libs/core/src', 'libs/pki/src'];
const SKIP = /\.(spec|test|test-helper)\.ts$/;

const sha1 = (text) => crypto.createHash('sha1').update(text).digest('hex');
const stamp = (hash) => `\n//# enclave-ts-source=${hash}\n`;
const cachePath = (file) => path.join(CACHE, `${path.relative(ROOT, file)}.js`);

let transform;
/** SWC with the repository's tsconfig, exactly as @swc-node/register (scripts/register.cjs) compiles. */
function compile(file, source) {
  if (!transform) {
    const tsconfig = path.join(ROOT, 'tsconfig.json');
    const { readDefaultTsConfig, tsCompilerOptionsToSwcConfig } = require('@swc-node/register/read-default-tsconfig');
    const { transformSync } = require('@swc-node/core');
    // As @swc-node/register does: CommonJS output whatever tsconfig's "module" says.
    const options = { ...readDefaultTsConfig(tsconfig), module: require('typescript').ModuleKind.CommonJS };
    transform = (src, filename) => transformSync(src, filename, tsCompilerOptionsToSwcConfig(options, filename)).code;
  }
  return transform(source, file);
}

/** Compiles every source file of the agent into the cache; returns how many were (re)written. */
function precompile() {
  let written = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !SKIP.test(entry.name)) {
        const source = fs.readFileSync(full, 'utf8');
        const out = cachePath(full);
        const hash = sha1(source);
        let current;
        try {
          current = fs.readFileSync(out, 'utf8');
        } catch {
          current = undefined;
        }
        if (current !== undefined && current.endsWith(stamp(hash))) continue;
        fs.mkdirSync(path.dirname(out), { recursive: true });
        const tmp = `${out}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, compile(full, source) + stamp(hash));
        fs.renameSync(tmp, out);
        written++;
      }
    }
  };
  for (const dir of SOURCES) {
    const full = path.join(ROOT, dir);
    if (fs.existsSync(full)) walk(full);
  }
  return written;
}

/** Makes `require` of a .ts file load its cached compilation (or compile it when the cache is stale). */
function install() {
  require.extensions['.ts'] = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    let code;
    try {
      const cached = fs.readFileSync(cachePath(filename), 'utf8');
      if (cached.endsWith(stamp(sha1(source)))) code = cached;
    } catch {
      code = undefined;
    }
    module._compile(code ?? compile(filename, source), filename);
  };
}

module.exports = { install, precompile, CACHE };

if (require.main === module) {
  const started = Date.now();
  const written = precompile();
  console.log(
    `enclave-ts: ${written} file(s) compiled into ${path.relative(ROOT, CACHE)} in ${Date.now() - started} ms`,
  );
}
