import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { generateOpenApiDocument, OPENAPI_FILE, serializeOpenApi } from '../../apps/server/src/openapi';
import { CLIENT_SCHEMA_FILE, OPENAPI_TYPESCRIPT_CLI } from '../../apps/server/src/openapi-cli';

const STALE = 'stale: run `npm run openapi` and commit the result';

test('the committed apps/server/openapi.json matches the controllers', async () => {
  const doc = await generateOpenApiDocument();
  assert.equal(fs.readFileSync(OPENAPI_FILE, 'utf8'), serializeOpenApi(doc), STALE);
  // Spot-check the contract the console relies on.
  assert.ok(doc.paths['/api/admin/login']?.post);
  assert.ok(doc.paths['/api/admin/users/{username}']?.get);
  assert.ok(doc.components?.schemas?.UserResponseDto);
});

test('the committed libs/api-client schema is generated from the committed openapi.json', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enclave-client-'));
  try {
    const out = path.join(dir, 'schema.d.ts');
    execFileSync(process.execPath, [OPENAPI_TYPESCRIPT_CLI, OPENAPI_FILE, '-o', out], {
      stdio: 'ignore',
    });
    const committed = fs.readFileSync(CLIENT_SCHEMA_FILE, 'utf8');
    assert.equal(committed, fs.readFileSync(out, 'utf8'), STALE);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
