#!/usr/bin/env node
'use strict';
/* global __filename */
// Launcher for `npx enclave-agent`: loads the TypeScript sources through the precompiled cache
// (scripts/ts-cache.cjs, filled by `npm ci`), so a running agent does not carry the compiler in memory.
const fs = require('node:fs');
const path = require('node:path');

const here = path.dirname(fs.realpathSync(__filename));
require(path.join(here, '..', '..', '..', 'scripts', 'ts-cache.cjs')).install();
require(path.join(here, '..', 'src', 'main.ts')).cli();
