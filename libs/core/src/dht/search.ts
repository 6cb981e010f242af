import { Endpoint } from './address';
import { compareDistance } from './info-hash';
import { CompactNode } from './messages';

/**
 * Iterative Kademlia lookup: keep the nodes closest to the target in a search set, ask the closest ones not
 * yet asked (α at a time; a request that had to be retried stops counting against α), add the nodes they
 * return, and stop once the `targetNodes` closest live nodes have all answered or nobody is left to ask (one or
 * two nodes whose first attempt timed out are not waited for).
 */

export interface SearchNode extends Endpoint {
  id: Buffer;
}

export interface SearchReply {
  nodes: CompactNode[];
  token?: Buffer;
}

export interface SearchResultNode extends SearchNode {
  /** The write token it gave us. */
  token?: Buffer;
}

export interface SearchParams {
  target: Buffer;
  ownId: Buffer;
  seeds: readonly SearchNode[];
  /** Sends the request; calls `slow` when the first attempt timed out; rejects on final failure. */
  ask: (node: SearchNode, slow: () => void) => Promise<SearchReply>;
  /** Whether a node returned by a peer may be asked (martian filter, not our own address, …). */
  accept?: (node: CompactNode) => boolean;
  alpha?: number;
  searchNodes?: number;
  targetNodes?: number;
}

interface Candidate {
  node: SearchNode;
  state: 'new' | 'pending' | 'replied' | 'failed';
  slow: boolean;
  token?: Buffer;
}

const MAX_CANDIDATES = 64;
/** Most slow nodes among the closest a search finishes without. */
const MAX_SKIPPED_SLOW = 2;

/** Resolves with the nodes that answered, closest first. Never rejects. */
export function iterativeSearch(p: SearchParams): Promise<SearchResultNode[]> {
  const alpha = p.alpha ?? 4;
  const searchNodes = p.searchNodes ?? 14;
  const targetNodes = p.targetNodes ?? 8;
  const candidates = new Map<string, Candidate>();
  const byDistance = (a: Candidate, b: Candidate) => compareDistance(p.target, a.node.id, b.node.id);

  const add = (node: SearchNode) => {
    if (node.id.equals(p.ownId)) return;
    const hex = node.id.toString('hex');
    if (!candidates.has(hex))
      candidates.set(hex, { node: { id: node.id, host: node.host, port: node.port }, state: 'new', slow: false });
  };
  const trim = () => {
    if (candidates.size <= MAX_CANDIDATES) return;
    const fresh = [...candidates.entries()].filter(([, c]) => c.state === 'new');
    fresh.sort(([, a], [, b]) => byDistance(b, a));
    for (const [hex] of fresh.slice(0, candidates.size - MAX_CANDIDATES)) candidates.delete(hex);
  };
  p.seeds.forEach(add);

  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      finished = true;
      const replied = [...candidates.values()].filter((c) => c.state === 'replied').sort(byDistance);
      resolve(replied.map((c) => ({ ...c.node, token: c.token })));
    };
    const launch = (c: Candidate) => {
      c.state = 'pending';
      p.ask(c.node, () => {
        c.slow = true;
        step();
      }).then(
        (reply) => {
          c.state = 'replied';
          c.token = reply.token;
          for (const n of reply.nodes) if (!p.accept || p.accept(n)) add(n);
          trim();
          step();
        },
        () => {
          c.state = 'failed';
          step();
        },
      );
    };
    const step = () => {
      if (finished) return;
      const live = [...candidates.values()].filter((c) => c.state !== 'failed').sort(byDistance);
      const window = live.slice(0, searchNodes);
      // One or two nodes whose first attempt timed out no longer hold the search up: they are most likely
      // gone, and waiting for their last retries would add seconds to every search near them. When more are
      // slow, the network (or this host) is loaded rather than those nodes dead: wait for them.
      const isSlow = (c: Candidate) => c.state === 'pending' && c.slow;
      const slowInTop = live.slice(0, targetNodes).filter(isSlow).length;
      const top =
        slowInTop > 0 && slowInTop <= MAX_SKIPPED_SLOW
          ? live.filter((c) => !isSlow(c)).slice(0, targetNodes)
          : live.slice(0, targetNodes);
      if (top.length > 0 && top.every((c) => c.state === 'replied')) return finish();
      let inFlight = live.filter((c) => c.state === 'pending' && !c.slow).length;
      for (const c of window) {
        if (inFlight >= alpha) break;
        if (c.state === 'new') {
          launch(c);
          inFlight++;
        }
      }
      if (!live.some((c) => c.state === 'pending') && !window.some((c) => c.state === 'new')) finish();
    };
    step();
  });
}
