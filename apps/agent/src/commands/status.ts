import { JamsError } from '@enclave/core';
import { ExitCode, toAgentError } from '../agent.errors';
import { callDaemon } from '../control';
import { Context, loadIdentity, print, serverClient } from '../context';

export interface DaemonStatus {
  pid: number;
  startedAt: string;
  /** Our UDP node's port, or the DHT proxy in use; the routing table's size (the proxy's, with a proxy). */
  dht: { port?: number; proxy?: string; nodes: number; goodNodes: number };
  connections: { deviceShortId: string; accountId: string; initiator: boolean }[];
  pendingMessages: number;
}

/** `status`: the local identity, whether the daemon runs, and (unless --offline) what the server says of us. */
export async function statusCommand(ctx: Context): Promise<ExitCode> {
  const config = ctx.store.requireEnrolled();
  const identity = await loadIdentity(ctx, config);
  const daemon = (await callDaemon(ctx.store.path('socket'), { op: 'status' }, 5_000).catch(() => undefined)) as
    DaemonStatus | undefined;
  let server: { state: 'ok' | 'revoked' | 'unreachable' | 'error' | 'skipped'; message?: string } = {
    state: 'skipped',
  };
  let exit = ExitCode.OK;
  if (!ctx.options.offline) {
    const client = serverClient(ctx, config, identity);
    try {
      await client.loginDevice();
      client.assertClockInSync();
      server = { state: 'ok' };
    } catch (err) {
      const e = toAgentError(err);
      exit = e.exitCode;
      server = {
        state:
          exit === ExitCode.DEVICE_REVOKED ? 'revoked' : exit === ExitCode.SERVER_UNREACHABLE ? 'unreachable' : 'error',
        message: err instanceof JamsError ? err.message : e.message,
      };
    }
  }
  const info = {
    server: config.server,
    username: config.username,
    deviceName: config.deviceName,
    accountId: identity.accountId,
    deviceId: identity.deviceId,
    certificateValidTo: identity.device.validTo,
    keyEncrypted: config.keyEncrypted,
    stateDir: ctx.store.dir,
    serverStatus: server,
    daemon: daemon ?? null,
  };
  if (ctx.options.json) {
    print(ctx, JSON.stringify(info));
    return exit;
  }
  print(ctx, `Enrolled as ${config.username} on ${config.server} (device "${config.deviceName}")`);
  print(ctx, `  Jami ID:     ${identity.accountId}`);
  print(ctx, `  Device ID:   ${identity.deviceId}`);
  print(ctx, `  Certificate: valid until ${identity.device.validTo}`);
  print(ctx, `  Key:         ${config.keyEncrypted ? 'encrypted' : 'not encrypted'}, in ${ctx.store.dir}`);
  const serverLine = {
    ok: 'ok (device certificate accepted)',
    revoked: 'REVOKED: this device has been revoked by the organization',
    unreachable: `unreachable (${server.message})`,
    error: `error (${server.message})`,
    skipped: 'not checked (--offline)',
  }[server.state];
  print(ctx, `  Server:      ${serverLine}`);
  if (daemon) {
    print(
      ctx,
      `  Agent:       running (pid ${daemon.pid}), ` +
        (daemon.dht.proxy ? `DHT through proxy ${daemon.dht.proxy}` : `DHT port ${daemon.dht.port}`) +
        `, ${daemon.dht.goodNodes}/${daemon.dht.nodes} nodes, ` +
        `${daemon.connections.length} connection(s), ${daemon.pendingMessages} message(s) waiting`,
    );
  } else {
    print(ctx, '  Agent:       not running (start it with: enclave-agent run)');
  }
  return exit;
}
