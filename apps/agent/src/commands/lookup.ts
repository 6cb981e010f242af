import { AnnouncedDevice, DhtNode, findAccountDevices, networkPolicy } from '@enclave/core';
import { ExitCode } from '../agent.errors';
import { callDaemon } from '../control';
import { Context, print, resolveAccount, serverClient } from '../context';

/**
 * `lookup NAME`: the colleague's Jami ID from the organization's name server, then their devices from the
 * announcements on the DHT (through the running agent, or a short-lived DHT node).
 */
export async function lookupCommand(ctx: Context): Promise<ExitCode> {
  const name = ctx.args[0];
  if (!name) return usage(ctx);
  const config = ctx.store.requireEnrolled();
  const client = serverClient(ctx, config);
  const account = await resolveAccount(config, client, name);
  const bootstrap = ctx.options.bootstrap?.split(/[,;]/).filter(Boolean) ?? networkPolicy(ctx.store.policy()).bootstrap;
  let devices: AnnouncedDevice[] | undefined;
  const viaDaemon = (await callDaemon(ctx.store.path('socket'), { op: 'lookup', accountId: account.accountId })) as
    AnnouncedDevice[] | undefined;
  if (viaDaemon) devices = viaDaemon;
  else if (bootstrap.length > 0) {
    const dht = new DhtNode({ host: ctx.options.bind ?? '0.0.0.0' });
    await dht.start();
    try {
      await dht.bootstrap(bootstrap);
      devices = await findAccountDevices(dht, account.accountId);
    } finally {
      await dht.stop();
    }
  }
  if (ctx.options.json) {
    print(ctx, JSON.stringify({ ...account, devices: devices ?? null }));
    return ExitCode.OK;
  }
  print(ctx, `${account.name}: Jami ID ${account.accountId}`);
  if (!devices) print(ctx, '  (no DHT bootstrap configured: devices not looked up)');
  else if (devices.length === 0) print(ctx, '  no device announced on the network');
  else for (const d of devices) print(ctx, `  device ${d.deviceId ?? d.deviceShortId}`);
  return ExitCode.OK;
}

function usage(ctx: Context): ExitCode {
  ctx.stderr.write('usage: enclave-agent lookup NAME\n');
  return ExitCode.USAGE;
}
