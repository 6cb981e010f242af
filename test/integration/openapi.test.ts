import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { generateOpenApiDocument, OPENAPI_FILE, serializeOpenApi } from '../../apps/server/src/openapi';
import { CLIENT_SCHEMA_FILE, OPENAPI_TYPESCRIPT_CLI } from '../../apps/server/src/openapi-cli';

const STALE = 'stale: run `npm run openapi` and commit the result';
const ERROR_REF = '#/components/schemas/ErrorResponseDto';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

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

test('every operation documents its errors with ErrorResponseDto, whose code is the ErrorCode enum', async () => {
  const doc = await generateOpenApiDocument();
  const schemas = doc.components?.schemas ?? {};
  const dto = schemas.ErrorResponseDto as {
    properties: Record<string, { $ref?: string; allOf?: { $ref?: string }[] }>;
    required: string[];
  };
  assert.deepEqual([...dto.required].sort(), ['code', 'message', 'requestId', 'statusCode']);
  const code = dto.properties.code;
  assert.equal(code.$ref ?? code.allOf?.[0]?.$ref, '#/components/schemas/ErrorCode');
  const errorCodes = (schemas.ErrorCode as { enum: string[] }).enum;
  for (const code of ['VALIDATION_FAILED', 'BODY_INVALID', 'MEDIA_TYPE_UNSUPPORTED', 'INTERNAL']) {
    assert.ok(errorCodes.includes(code), code);
  }

  const missing: string[] = [];
  let operations = 0;
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      operations++;
      const name = `${method.toUpperCase()} ${route}`;
      for (const [status, response] of Object.entries(op.responses)) {
        if (status !== 'default' && !/^[45]/.test(status)) continue;
        const ref = response && 'content' in response ? response.content?.['application/json']?.schema : undefined;
        if (!ref || !('$ref' in ref) || ref.$ref !== ERROR_REF) missing.push(`${name} ${status}`);
      }
      if (!op.responses.default) missing.push(`${name} default`);
    }
  }
  assert.ok(operations > 20, `only ${operations} operations`);
  assert.deepEqual(missing, [], 'operations without the ErrorResponseDto error schema');
  // Explicit error responses keep their own descriptions.
  const login401 = doc.paths['/api/admin/login']?.post?.responses['401'];
  assert.equal(
    login401 && 'description' in login401 ? login401.description : undefined,
    'INVALID_CREDENTIALS, MFA_REQUIRED',
  );
});
