import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decodeMessage, encodeParts } from './messages';
import { PartReassembler } from './reassembly';

const partsOf = (tid: number, values: Buffer[]) => encodeParts(tid, values).map((p) => decodeMessage(p).parts!);

test('values sent as parts are reassembled in header order, whatever their count and size', () => {
  const values = [randomBytes(2153), randomBytes(10), randomBytes(1280)];
  const r = new PartReassembler();
  let got: Buffer[] | undefined;
  r.expect(
    'k',
    values.map((v) => v.length),
    (v) => (got = v),
    0,
  );
  for (const parts of partsOf(1, values)) r.add('k', parts, 1);
  assert.deepEqual(got, values);
  assert.equal(r.size, 0);
});

test('parts are used only in order (as 2.4.12 does); a retry re-sending every part completes the value', () => {
  const value = randomBytes(3000);
  const [p0, p1, p2] = partsOf(1, [value]);
  const r = new PartReassembler();
  let got: Buffer[] | undefined;
  r.expect('k', [value.length], (v) => (got = v), 0);
  r.add('k', p0, 1);
  r.add('k', p2, 2); // out of order: ignored
  r.add('k', p1, 3);
  assert.equal(got, undefined);
  r.add('k', p0, 4); // the retry: duplicate, ignored
  r.add('k', p1, 4);
  r.add('k', p2, 4);
  assert.deepEqual(got, [value]);
});

test('parts that arrive before their header are kept briefly', () => {
  const value = randomBytes(700);
  const r = new PartReassembler();
  for (const parts of partsOf(1, [value])) r.add('k', parts, 0);
  let got: Buffer[] | undefined;
  r.expect('k', [value.length], (v) => (got = v), 10);
  assert.deepEqual(got, [value]);
});

test('a message is dropped 3 s after its last part or 10 s after its header', () => {
  const value = randomBytes(3000);
  const [p0, p1, p2] = partsOf(1, [value]);
  const r = new PartReassembler();
  let got: Buffer[] | undefined;
  r.expect('a', [value.length], (v) => (got = v), 0);
  r.add('a', p0, 1000);
  r.sweep(4001);
  r.add('a', p1, 4002);
  r.add('a', p2, 4002);
  assert.equal(got, undefined, 'silent for more than 3 s');

  r.expect('b', [value.length], (v) => (got = v), 0);
  for (const [i, p] of [p0, p1].entries()) r.add('b', p, 2500 * (i + 1));
  r.sweep(10_001);
  r.add('b', p2, 10_002);
  assert.equal(got, undefined, 'longer than 10 s in total');
});

test('a declared size above 64 KiB + 32 is skipped, the other values still arrive; keys do not mix', () => {
  const small = randomBytes(800);
  const r = new PartReassembler();
  let got: Buffer[] | undefined;
  r.expect('src-1/7', [70_000, small.length], (v) => (got = v), 0);
  const [parts] = partsOf(7, [Buffer.alloc(0), small]);
  r.add('src-2/7', parts, 1);
  assert.equal(got, undefined);
  r.add('src-1/7', parts, 1);
  assert.deepEqual(got, [small]);
});
