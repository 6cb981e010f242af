import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvField } from './audit-export';
import { canonicalJson } from './audit-chain';

test('CSV fields are quoted only when needed, quotes doubled, formula-like text defused', () => {
  assert.equal(csvField(null), '');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField('=SUM(A1)'), "'=SUM(A1)");
  assert.equal(csvField('+1'), "'+1");
  assert.equal(csvField('@x'), "'@x");
  assert.equal(csvField({ a: 'x,"y"' }), '"{""a"":""x,\\""y\\""""}"');
});

test('canonical JSON sorts keys at every depth and drops undefined members', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined }),
    '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
  );
  assert.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
});
