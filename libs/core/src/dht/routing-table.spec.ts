import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonPrefixBits, compareDistance } from './info-hash';
import { MAX_FAILURES, RoutingTable } from './routing-table';

const own = Buffer.alloc(20, 0);
/** An id sharing exactly `prefix` leading bits with `own` (all zero), then distinguished by `tag`. */
function idAt(prefix: number, tag: number): Buffer {
  const id = Buffer.alloc(20, 0);
  id[Math.floor(prefix / 8)] |= 0x80 >> (prefix % 8);
  id[19] |= tag;
  return id;
}
const ep = (i: number) => ({ host: '127.0.0.1', port: 10_000 + i });

test('XOR distance and shared-prefix length', () => {
  assert.equal(commonPrefixBits(own, idAt(0, 1)), 0);
  assert.equal(commonPrefixBits(own, idAt(13, 1)), 13);
  assert.equal(commonPrefixBits(own, own), 160);
  assert.ok(compareDistance(own, idAt(20, 0), idAt(3, 0)) < 0);
});

test('a bucket keeps 8 nodes and prefers the old ones, unless they stopped answering', () => {
  const t = new RoutingTable(own);
  for (let i = 0; i < 8; i++) assert.ok(t.heardFrom(idAt(0, i), ep(i), true, 1000));
  assert.equal(t.heardFrom(idAt(0, 8), ep(8), true, 1000), undefined, 'bucket full of good nodes');
  assert.equal(t.size, 8);
  for (let f = 0; f < MAX_FAILURES; f++) t.failed(idAt(0, 3));
  assert.ok(t.heardFrom(idAt(0, 8), ep(8), true, 1000), 'a failing node makes room');
  assert.equal(t.find(idAt(0, 3)), undefined);
  assert.ok(t.heardFrom(idAt(5, 1), ep(20), false, 1000), 'other buckets are independent');
  assert.equal(t.heardFrom(own, ep(99), true), undefined, 'never ourselves');
});

test('closest() sorts by XOR distance to the target and skips failing nodes', () => {
  const t = new RoutingTable(own);
  const ids = [idAt(1, 0), idAt(7, 0), idAt(30, 0), idAt(30, 1)];
  ids.forEach((id, i) => t.heardFrom(id, ep(i), true));
  const target = idAt(30, 1);
  assert.deepEqual(
    t.closest(target, 3).map((n) => n.id),
    [idAt(30, 1), idAt(30, 0), idAt(7, 0)],
  );
  for (let f = 0; f < MAX_FAILURES; f++) t.failed(idAt(30, 1));
  assert.deepEqual(t.closest(target, 1)[0].id, idAt(30, 0));
});

test('a node back at the same address with a new id replaces its old entry; a reply resets failures', () => {
  const t = new RoutingTable(own);
  t.heardFrom(idAt(2, 1), ep(1), true);
  t.heardFrom(idAt(9, 1), ep(1), false);
  assert.equal(t.size, 1);
  assert.ok(t.findByEndpoint(ep(1))!.id.equals(idAt(9, 1)));
  t.failed(idAt(9, 1));
  const e = t.heardFrom(idAt(9, 1), ep(1), true)!;
  assert.equal(e.failures, 0);
  assert.ok(t.isGood(e));
});
