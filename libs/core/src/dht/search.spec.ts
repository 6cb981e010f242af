import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { compareDistance } from './info-hash';
import { iterativeSearch, SearchNode } from './search';

test('a search does not wait for the last retries of a node whose first attempt timed out', async () => {
  const target = randomBytes(20);
  const seeds: SearchNode[] = Array.from({ length: 6 }, (_, i) => ({
    id: randomBytes(20),
    host: '127.0.0.1',
    port: 5000 + i,
  }));
  const dead = seeds[0];
  const started = Date.now();
  const found = await iterativeSearch({
    target,
    ownId: randomBytes(20),
    seeds,
    ask: (node, slow) =>
      node.id.equals(dead.id)
        ? new Promise((_, reject) => {
            setTimeout(slow, 50); // first attempt timed out
            setTimeout(() => reject(new Error('timeout')), 5_000); // the last one much later
          })
        : new Promise((resolve) => setTimeout(() => resolve({ nodes: [] }), 5)),
  });
  assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  assert.equal(found.length, 5);
  assert.ok(!found.some((n) => n.id.equals(dead.id)));
});

test('a search still waits when more than two of the closest nodes are slow (load, not dead nodes)', async () => {
  const target = randomBytes(20);
  const seeds: SearchNode[] = Array.from({ length: 10 }, (_, i) => ({
    id: randomBytes(20),
    host: '127.0.0.1',
    port: 5000 + i,
  }));
  seeds.sort((a, b) => compareDistance(target, a.id, b.id));
  const slow = new Set(seeds.slice(0, 4).map((n) => n.id.toString('hex'))); // the 4 closest
  const found = await iterativeSearch({
    target,
    ownId: randomBytes(20),
    seeds,
    ask: (node, markSlow) =>
      slow.has(node.id.toString('hex'))
        ? new Promise((resolve) => {
            setTimeout(markSlow, 20);
            setTimeout(() => resolve({ nodes: [] }), 200); // late, but it answers
          })
        : new Promise((resolve) => setTimeout(() => resolve({ nodes: [] }), 5)),
  });
  // It waits until at most two of them are still outstanding.
  const slowFound = found.filter((n) => slow.has(n.id.toString('hex'))).length;
  assert.ok(slowFound >= 2, `${slowFound} slow nodes in the result`);
});
