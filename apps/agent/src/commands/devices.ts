import { ExitCode } from '../agent.errors';
import { Context, loadIdentity, print, serverClient } from '../context';

/** `devices`: the user's devices as the server lists them (device login, then /api/auth/devices). */
export async function devicesCommand(ctx: Context): Promise<ExitCode> {
  const config = ctx.store.requireEnrolled();
  const identity = await loadIdentity(ctx, config);
  const client = serverClient(ctx, config, identity);
  const devices = await client.devices(await client.loginDevice());
  const rows = devices.map((d) => ({ ...d, current: d.deviceId === identity.deviceId }));
  if (ctx.options.json) {
    print(ctx, JSON.stringify(rows));
    return ExitCode.OK;
  }
  print(ctx, `Devices of ${config.username}:`);
  for (const d of rows) {
    const flags = [d.current ? 'this device' : '', d.revoked ? 'REVOKED' : ''].filter(Boolean).join(', ');
    print(ctx, `  ${d.deviceId}  ${d.alias}${flags ? `  (${flags})` : ''}`);
  }
  return ExitCode.OK;
}
