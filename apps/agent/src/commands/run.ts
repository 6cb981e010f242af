import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { EnclavePeer, JamsError, JamsErrorCode, NoDeviceError } from '@enclave/core';
import { AgentError, ExitCode, toAgentError } from '../agent.errors';
import { serveControl } from '../control';
import { Context, loadIdentity, peerOptions, serverClient } from '../context';
import { jsonLogger, LogLevel } from '../json-log';
import { DaemonStatus } from './status';

/** How often the daemon asks the server whether this device is still enrolled (and refreshes the policy). */
const SERVER_CHECK_MS = 10 * 60_000;

/** The DHT side of `status`: our node's port and routing table, or the proxy and its routing table. */
async function dhtStatus(peer: EnclavePeer): Promise<DaemonStatus['dht']> {
  if (peer.node) {
    const s = peer.node.stats();
    return { port: peer.node.address.port, nodes: s.nodes, goodNodes: s.goodNodes };
  }
  const proxy = peer.proxy!;
  const info = await proxy.info().catch(() => proxy.lastKnownInfo);
  return { proxy: proxy.url.origin, nodes: info?.nodes ?? 0, goodNodes: info?.goodNodes ?? 0 };
}

/**
 * A node that found nobody would run alone, unreachable and reaching no one: unless a cached node answers,
 * stop with NO_BOOTSTRAP and say what to fix. Resolves with the routing table's size otherwise.
 */
async function joinedOrExit(ctx: Context, peer: EnclavePeer, bootstrap: string[]): Promise<number> {
  const node = peer.node!;
  if (node.stats().nodes === 0) await node.loadNodeCache(ctx.store.path('nodes'));
  const nodes = node.stats().nodes;
  if (nodes > 0) return nodes;
  await peer.stop();
  throw new AgentError(
    ExitCode.NO_BOOTSTRAP,
    bootstrap.length
      ? `no DHT bootstrap node answered (tried ${bootstrap.join(', ')}): this device would be alone on the network`
      : 'no DHT bootstrap node: the policy sets no Account.hostname and --bootstrap was not given',
    bootstrap.length
      ? "check that UDP traffic to that port is allowed (the Enclave server's ENCLAVE_DHT_PORT, 4222 by default) " +
          'and that the server runs its DHT node, or pass --bootstrap HOST:PORT'
      : "ask your administrator to enable the server's DHT node (ENCLAVE_DHT_PORT) or to set Account.hostname " +
          'in the organization policy, or pass --bootstrap HOST:PORT',
  );
}

/**
 * `run`: the daemon. Checks the device with the server (a revoked device stops here), fetches and applies the
 * policy (DHT bootstrap and port, or DHT proxy; TURN), joins the DHT (directly or through the proxy),
 * publishes this device, accepts secure connections, receives messages and keeps retrying undelivered ones.
 * Logs JSON lines on stdout; stops cleanly on SIGTERM or SIGINT.
 */
export async function runCommand(ctx: Context): Promise<ExitCode> {
  const config = ctx.store.requireEnrolled();
  const level = (ctx.options['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new AgentError(ExitCode.USAGE, '--log-level is debug, info, warn or error');
  }
  const log = jsonLogger(ctx.stdout, level);
  const identity = await loadIdentity(ctx, config);
  const client = serverClient(ctx, config, identity);

  const checkServer = async (first: boolean) => {
    try {
      const token = await client.loginDevice();
      client.assertClockInSync();
      const policy = await client.policyData(token);
      ctx.store.savePolicy(policy);
      if (first) log('info', 'policy fetched', { keys: Object.keys(policy).length });
    } catch (err) {
      if (err instanceof JamsError && err.code === JamsErrorCode.UNREACHABLE) {
        log('warn', 'server unreachable: running with the stored policy', { error: err.message });
        return;
      }
      throw err;
    }
  };
  await checkServer(true);

  const opts = peerOptions(ctx, identity, client, ctx.store.messageStore(), (lvl, msg, details) =>
    log(lvl, msg, details),
  );
  for (const note of opts.notApplied) log('warn', 'policy setting not applied', { setting: note });
  fs.mkdirSync(ctx.store.path('run'), { recursive: true, mode: 0o700 });
  // Come back as the same DHT node (id and port) as the last run, so others' routing tables stay valid.
  const saved = ctx.store.dhtNode();
  const explicitPort = ctx.options['dht-port'] !== undefined || opts.dht?.port;
  let peer = new EnclavePeer({
    ...opts,
    dht: { ...opts.dht, id: saved?.id ?? randomBytes(20).toString('hex'), port: opts.dht?.port || saved?.port || 0 },
  });
  const startedAt = new Date().toISOString();
  let nodes: number;
  try {
    nodes = await peer.start();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || explicitPort) throw err;
    log('warn', 'the previous DHT port is taken: using another one', { port: saved?.port });
    await peer.stop();
    peer = new EnclavePeer({ ...opts, dht: { ...opts.dht, id: saved?.id, port: 0 } });
    nodes = await peer.start();
  }
  if (peer.node && nodes === 0) nodes = await joinedOrExit(ctx, peer, opts.dht?.bootstrap ?? []);
  if (peer.node) ctx.store.saveDhtNode({ id: peer.node.id.toString('hex'), port: peer.node.address.port });
  log('info', 'agent started', {
    pid: process.pid,
    accountId: identity.accountId,
    deviceId: identity.deviceId,
    deviceShortId: identity.deviceShortId,
    dhtPort: peer.node?.address.port,
    dhtProxy: peer.proxy?.url.origin,
    bootstrap: peer.node ? opts.dht?.bootstrap : undefined,
    nodes,
    turn: opts.ice?.iceServers?.map((s) => `${s.hostname}:${s.port}`),
  });
  peer.messenger.on('message', (m) => log('info', 'message received', { ...m }));
  peer.messenger.on('delivered', (d) => log('info', 'message delivered', d));
  peer.connections.on('refused', (r) => log('warn', 'peer refused', { ...r }));

  const control = await serveControl(ctx.store.path('socket'), async (req) => {
    switch (req.op) {
      case 'status':
        return {
          pid: process.pid,
          startedAt,
          dht: await dhtStatus(peer),
          connections: peer.connections.openConnections.map((c) => ({
            deviceShortId: c.peer.deviceShortId,
            accountId: c.peer.accountId,
            initiator: c.initiator,
          })),
          pendingMessages: peer.messenger.pending().length,
        } satisfies DaemonStatus;
      case 'lookup':
        return peer.devicesOf(req.accountId);
      case 'send':
        try {
          return await peer.send(req.accountId, req.message);
        } catch (err) {
          if (err instanceof NoDeviceError) throw new AgentError(ExitCode.NOT_FOUND, err.message);
          throw err;
        }
    }
  });

  return new Promise<ExitCode>((resolve) => {
    let stopping = false;
    const stop = async (exit: ExitCode, reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      log('info', 'agent stopping', { reason });
      await new Promise<void>((r) => control.close(() => r()));
      fs.rmSync(ctx.store.path('socket'), { force: true });
      await peer.stop();
      log('info', 'agent stopped', {});
      resolve(exit);
    };
    const timer = setInterval(() => {
      checkServer(false).catch((err: Error) => {
        const e = toAgentError(err);
        log('error', 'server check failed', { error: e.message, exitCode: e.exitCode });
        if (e.exitCode === ExitCode.DEVICE_REVOKED) void stop(ExitCode.DEVICE_REVOKED, 'device revoked');
      });
    }, SERVER_CHECK_MS);
    timer.unref();
    process.once('SIGTERM', () => void stop(ExitCode.OK, 'SIGTERM'));
    process.once('SIGINT', () => void stop(ExitCode.OK, 'SIGINT'));
  });
}
