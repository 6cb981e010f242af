import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import {
  decodeMessage,
  decodeNodes,
  encodeError,
  encodeNodes,
  encodeParts,
  encodeQuery,
  encodeReply,
  MalformedMessage,
  needsParts,
  PART_SIZE,
  valuesField,
} from './messages';
import { pack, RawMsgpack } from './msgpack';

const id = Buffer.alloc(20, 0xab);
const tid = 0x59aea46e;

test('ping and its reply are byte-identical to the dhtnode 2.4.12 capture', () => {
  const ping = encodeQuery(tid, 'ping', { id });
  const expectedPing = Buffer.concat([
    Buffer.from('85a16181a26964c414', 'hex'),
    id,
    Buffer.from('a171a470696e67a174ce59aea46ea179a171a176a4524e4731', 'hex'),
  ]);
  assert.equal(ping.length, 54);
  assert.deepEqual(ping, expectedPing);
  const reply = encodeReply(tid, { id, sa: Buffer.from([127, 0, 0, 1]) });
  const expectedReply = Buffer.concat([
    Buffer.from('84a17282a26964c414', 'hex'),
    id,
    Buffer.from('a27361c4047f000001a174ce59aea46ea179a172a176a4524e4731', 'hex'),
  ]);
  assert.equal(reply.length, 56);
  assert.deepEqual(reply, expectedReply);
  const decoded = decodeMessage(reply);
  assert.equal(decoded.kind, 'reply');
  assert.equal(decoded.tid, tid);
  assert.deepEqual(decoded.body.id, id);
  assert.equal(decoded.body.sa, '127.0.0.1');
  assert.equal(decoded.network, 0);
});

test('the network id goes in `n` only when non-zero, and is decoded', () => {
  assert.equal(decodeMessage(encodeQuery(1, 'ping', { id })).network, 0);
  const m = encodeQuery(1, 'ping', { id }, 5);
  assert.equal((decodeMessage(m) as { network: number }).network, 5);
  assert.equal(encodeQuery(1, 'ping', { id }).includes(Buffer.from('a16e', 'hex')), false);
});

test('ids must be 20-byte bins: a str id or a wrong length makes the packet unparseable', () => {
  const strId = Buffer.from(encode({ a: { id: 'a'.repeat(20) }, q: 'ping', t: 1, y: 'q' }));
  assert.throws(() => decodeMessage(strId), MalformedMessage);
  assert.throws(() => decodeMessage(encodeQuery(1, 'ping', { id: Buffer.alloc(19) })), MalformedMessage);
  assert.throws(() => decodeMessage(Buffer.from(encode({ a: { id }, q: 'bogus', t: 1, y: 'q' }))), MalformedMessage);
  assert.throws(() => decodeMessage(Buffer.from([0xc1])), MalformedMessage);
});

test('a 4-byte bin transaction id is accepted like a uint32', () => {
  const m = decodeMessage(Buffer.from(encode({ r: { id }, t: new Uint8Array([0, 0, 1, 2]), y: 'r' })));
  assert.equal(m.tid, 0x0102);
});

test('compact node lists round-trip, 26 bytes per IPv4 entry and 38 per IPv6; other lengths are rejected', () => {
  const nodes = [
    { id: Buffer.alloc(20, 1), host: '127.0.0.1', port: 4222 },
    { id: Buffer.alloc(20, 2), host: '10.1.2.3', port: 65535 },
  ];
  const n4 = encodeNodes(nodes);
  assert.equal(n4.length, 52);
  assert.deepEqual(n4.subarray(20, 26), Buffer.from([127, 0, 0, 1, 0x10, 0x7e]));
  assert.deepEqual(decodeNodes(n4, 4), nodes);
  const v6 = [{ id: Buffer.alloc(20, 3), host: '0:0:0:0:0:0:0:1', port: 1 }];
  assert.equal(encodeNodes(v6).length, 38);
  assert.deepEqual(decodeNodes(encodeNodes(v6), 6), v6);
  const reply = encodeReply(7, { id, n4: n4.subarray(0, 30), token: Buffer.alloc(32) });
  assert.throws(() => decodeMessage(reply), /not a multiple of 26/);
});

test('error replies carry [code, message] and the sender id', () => {
  const m = decodeMessage(encodeError(9, 401, 'Put with wrong token', id));
  assert.equal(m.kind, 'error');
  assert.deepEqual(m.error, { code: 401, message: 'Put with wrong token' });
  assert.deepEqual(m.body.id, id);
});

test('get queries, `w` want lists and `fileds` select replies decode', () => {
  const q = decodeMessage(
    encodeQuery(3, 'get', { id, h: id, w: [2, 10], q: { s: [1, 4], w: [{ f: 1, v: 0xae4bc55a06d83d93n }] } }),
  );
  assert.equal(q.method, 'get');
  assert.deepEqual(q.body.want, [2, 10]);
  assert.deepEqual(q.body.query, { select: [1, 4], where: [{ field: 1, value: 0xae4bc55a06d83d93n }] });
  const r = decodeMessage(encodeReply(3, { id, token: Buffer.alloc(32), fileds: { f: [1, 4], v: [5n, 0, 6n, 1] } }));
  assert.deepEqual(r.body.fields, { fields: [1, 4], values: [5, 0, 6, 1] });
});

test('values under 600 bytes in total go inline, verbatim; from 600 bytes (or 50 values) as sizes', () => {
  const small = pack({ id: 1n, dat: { body: { type: 0, data: Buffer.alloc(500) } } });
  assert.ok(small.length < 600);
  assert.equal(needsParts([small]), false);
  const m = decodeMessage(encodeQuery(4, 'put', { id, h: id, token: Buffer.alloc(32), values: valuesField([small]) }));
  assert.deepEqual(m.body.values, [small]);
  assert.equal(m.body.valueSizes, undefined);

  const big = pack({ id: 2n, dat: { body: { type: 0, data: Buffer.alloc(600) } } });
  assert.equal(needsParts([big]), true);
  assert.equal(needsParts(Array<Buffer>(50).fill(Buffer.from([0x80]))), true);
  const header = decodeMessage(encodeQuery(4, 'put', { id, h: id, values: valuesField([small, big]) }));
  assert.deepEqual(header.body.valueSizes, [small.length, big.length]);
  assert.equal(header.body.values, undefined);
  assert.deepEqual(valuesField([small]), [new RawMsgpack(small)]);
});

test('value parts: one datagram per ≤1280-byte chunk, in order, integer index keys, same tid', () => {
  const a = Buffer.alloc(2153, 1);
  const b = Buffer.alloc(10, 2);
  const parts = encodeParts(77, [a, b], 3);
  assert.equal(parts.length, 3);
  const decoded = parts.map((p) => decodeMessage(p));
  assert.deepEqual(
    decoded.map((d) => [d.kind, d.tid, d.network, d.parts![0].index, d.parts![0].offset, d.parts![0].data.length]),
    [
      ['part', 77, 3, 0, 0, PART_SIZE],
      ['part', 77, 3, 0, PART_SIZE, 2153 - PART_SIZE],
      ['part', 77, 3, 1, 0, 10],
    ],
  );
  // {n, y:"p", t, p:{<int 1>: …}}: the index is msgpack int 0x01, not the string "1".
  const last = parts[2];
  assert.ok(last.includes(Buffer.from('a170810182a16f00a164c40a', 'hex')));
});
