import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeNext } from './next-path';

test('safeNext keeps a path of this console, with its query', () => {
  assert.equal(safeNext('/users?search=alice&page=2'), '/users?search=alice&page=2');
  assert.equal(safeNext(['/devices', '/users']), '/devices');
});

test('safeNext refuses other origins, protocol-relative and backslash URLs, and control characters', () => {
  for (const bad of [
    undefined,
    '',
    'https://evil.example/',
    '//evil.example/x',
    '/\\evil.example',
    'javascript:alert(1)',
    '/users\n',
    '/x'.repeat(2000),
  ]) {
    assert.equal(safeNext(bad), '/', String(bad));
  }
});
