import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { envSchema } from '../../apps/server/src/config/config.schema';

const root = path.resolve(__dirname, '..', '..');
const variables = Object.keys(envSchema.shape).sort();

test('every configuration variable is in the README configuration table', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const documented = [...readme.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, variables);
});

test('every configuration variable is in .env.example', () => {
  const example = fs.readFileSync(path.join(root, '.env.example'), 'utf8');
  const listed = [...example.matchAll(/^#?\s*([A-Z_]+)=/gm)].map((m) => m[1]).sort();
  // Variables only docker-compose.yml reads (database password, proxy name…) are in .env.example too.
  const compose = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  const composeOnly = new Set(
    [...compose.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]).filter((v) => !variables.includes(v)),
  );
  assert.equal(new Set(listed).size, listed.length, 'each variable is listed once');
  assert.deepEqual(
    listed.filter((v) => !composeOnly.has(v)),
    variables,
  );
});

test('process.env is read only by the config loader and entry points', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts')) {
        if (/process\.env\b/.test(fs.readFileSync(full, 'utf8'))) offenders.push(path.relative(root, full));
      }
    }
  };
  walk(path.join(root, 'apps/server/src'));
  assert.deepEqual(offenders.sort(), [
    'apps/server/src/database/cli-data-source.ts',
    'apps/server/src/main.ts',
    'apps/server/src/worker.ts',
  ]);
});

test('every route of the committed OpenAPI document is in the README API table', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## API overview'), readme.indexOf('Errors are JSON'));
  const spec = JSON.parse(fs.readFileSync(path.join(root, 'apps/server/openapi.json'), 'utf8')) as {
    paths: Record<string, unknown>;
  };
  const missing = Object.keys(spec.paths).filter((p) => !table.includes(`${p}\``) && !table.includes(`${p}?`));
  assert.deepEqual(missing, [], 'routes missing from the README API table (spell each path out)');
});
