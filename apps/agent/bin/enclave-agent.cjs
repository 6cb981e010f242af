#!/usr/bin/env node
'use strict';
/* global __filename */
// Launcher for `npx enclave-agent`: registers the TypeScript loader (SWC) of the repository, then runs the CLI.
const fs = require('node:fs');
const path = require('node:path');

const here = path.dirname(fs.realpathSync(__filename));
require(path.join(here, '..', '..', '..', 'scripts', 'register.cjs'));
require(path.join(here, '..', 'src', 'main.ts')).cli();
