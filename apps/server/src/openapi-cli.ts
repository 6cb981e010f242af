// `npm run openapi`: writes apps/server/openapi.json from the controllers and regenerates
// libs/api-client/src/schema.d.ts from it. Needs no database (Nest preview mode).
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { generateOpenApiDocument, OPENAPI_FILE, writeOpenApi } from './openapi';

const ROOT = path.join(__dirname, '..', '..', '..');
export const CLIENT_SCHEMA_FILE = path.join(ROOT, 'libs', 'api-client', 'src', 'schema.d.ts');
export const OPENAPI_TYPESCRIPT_CLI = path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

async function main(): Promise<void> {
  writeOpenApi(await generateOpenApiDocument());
  execFileSync(process.execPath, [OPENAPI_TYPESCRIPT_CLI, OPENAPI_FILE, '-o', CLIENT_SCHEMA_FILE], {
    stdio: 'inherit',
  });
}

if (require.main === module) void main();
