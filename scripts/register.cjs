// Runs TypeScript sources directly (SWC, with decorator metadata for NestJS).
// Every entry point — server, worker, tests, bench — is started with `node -r ./scripts/register.cjs`.
const path = require('node:path');
process.env.SWC_NODE_PROJECT = path.join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
