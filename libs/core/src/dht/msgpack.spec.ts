import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { arrayItems, mapEntries, MsgpackFormatError, pack, rawPath, RawMsgpack, skip, unpack } from './msgpack';

test('pack is byte-identical to @msgpack/msgpack for maps, strings, ints and blobs', () => {
  const samples: unknown[] = [
    { seq: 0, owner: new Uint8Array(300).fill(7), type: 0, data: new Uint8Array([1, 2, 3]), utype: 'text/plain' },
    [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31)],
    { s: 'x'.repeat(31), m: 'y'.repeat(32), l: 'z'.repeat(256), u: 'é✓' },
    { big: new Uint8Array(70_000), nested: { a: [true, false, null], f: 1.5 } },
  ];
  for (const s of samples) assert.deepEqual(pack(s as never), Buffer.from(encode(s)));
});

test('pack writes uint64 value ids in the smallest encoding and round-trips them as bigint', () => {
  assert.deepEqual(pack(0n), Buffer.from([0x00]));
  assert.deepEqual(pack(300n), Buffer.from([0xcd, 0x01, 0x2c]));
  const id = 0xae4bc55a06d83d93n;
  const packed = pack({ id });
  assert.equal(packed.subarray(4, 5)[0], 0xcf);
  assert.equal((unpack(packed) as { id: bigint }).id, id);
  assert.throws(() => pack(1n << 64n), RangeError);
});

test('pack writes Map integer keys as integers and splices RawMsgpack verbatim', () => {
  const p = new Map([[0, { o: 0, d: new Uint8Array([9]) }]]);
  assert.deepEqual(pack(p), Buffer.from('8100' + '82a16f00a164c40109', 'hex'));
  const raw = Buffer.from(encode({ z: 1 }));
  assert.deepEqual(pack([new RawMsgpack(raw), 2]), Buffer.concat([Buffer.from([0x92]), raw, Buffer.from([0x02])]));
  assert.deepEqual(pack({ a: undefined, b: 1 }), Buffer.from(encode({ b: 1 })));
});

test('the raw slicer finds exact byte ranges of nested members and rejects truncated input', () => {
  const body = Buffer.from(encode({ type: 0, data: new Uint8Array([1, 2]) }));
  const value = pack({ id: 5n, dat: { body: new RawMsgpack(body), sig: new Uint8Array(3) } });
  const range = rawPath(value, ['dat', 'body'])!;
  assert.deepEqual(value.subarray(range.start, range.end), body);
  assert.equal(rawPath(value, ['dat', 'missing']), undefined);
  const { entries, end } = mapEntries(value);
  assert.deepEqual(
    entries.map((e) => e.key),
    ['id', 'dat'],
  );
  assert.equal(end, value.length);
  const arr = pack([1, 'two', [3]]);
  assert.deepEqual(
    arrayItems(arr).items.map((r) => unpack(arr.subarray(r.start, r.end))),
    [1, 'two', [3]],
  );
  assert.throws(() => skip(value.subarray(0, value.length - 1), 0), MsgpackFormatError);
  assert.throws(() => skip(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), 0), MsgpackFormatError);
  assert.throws(() => skip(Buffer.from([0xc1]), 0), MsgpackFormatError);
});
