import fs from 'node:fs';
import os from 'node:os';
import { DEVICE_KEY_BITS, enrollDevice, exportPrivateKey, generateDeviceKey, JamsClient } from '@enclave/core';
import { AgentError, ExitCode } from '../agent.errors';
import { Context, integerOption, print, readPassphrase, readPassword } from '../context';
import { Progress } from '../progress';
import { AgentConfig } from '../state-store';

/**
 * `enroll --server URL --username U [--password-stdin]`: generates the device key here (RSA-4096), sends the
 * CSR with the user's credentials, checks what comes back, stores it privately.
 */
export async function enrollCommand(ctx: Context): Promise<ExitCode> {
  const { server, username } = ctx.options;
  if (!server || !username) throw new AgentError(ExitCode.USAGE, 'enroll needs --server URL and --username NAME');
  if (ctx.store.enrolled && !ctx.options.force) {
    const current = ctx.store.readJson<AgentConfig>('config');
    throw new AgentError(
      ExitCode.STATE,
      `this device is already enrolled as "${current.username}" on ${current.server}`,
      'add --force to replace that identity (back it up first with: enclave-agent backup FILE)',
    );
  }
  const bits = integerOption(ctx, 'key-bits', 2048, 8192) ?? DEVICE_KEY_BITS;
  let ca: string | undefined;
  if (ctx.options.ca) {
    try {
      ca = fs.readFileSync(ctx.options.ca, 'utf8');
    } catch (err) {
      throw new AgentError(ExitCode.USAGE, `--ca: ${(err as Error).message}`);
    }
  }
  const password = await readPassword(ctx);
  const passphrase = await readPassphrase(ctx, false);
  const deviceName = ctx.options['device-name'] ?? os.hostname();
  const client = new JamsClient({ url: server, ca, now: ctx.now });

  // Server, TLS trust, clock and credentials first: a failure should not wait for a 4096-bit key.
  await client.preflight();
  await client.loginUser(username, password);

  const progress = new Progress(ctx.stderr);
  progress.start(`Generating the RSA-${bits} device key`);
  let key;
  try {
    key = await generateDeviceKey(bits);
    progress.stop();
  } catch (err) {
    progress.stop('failed');
    throw err;
  }
  progress.start(`Enrolling with ${client.baseUrl}`);
  let enrollment;
  try {
    enrollment = await enrollDevice({
      client,
      username,
      password,
      deviceName,
      privateKey: key,
      preflight: false,
      now: ctx.now,
    });
    progress.stop();
  } catch (err) {
    progress.stop('failed');
    throw err;
  }
  const { identity, files, answer } = enrollment;
  const config: AgentConfig = {
    version: 1,
    server: client.baseUrl,
    username,
    deviceName,
    nameServer: answer.nameServer ?? '/api/nameserver',
    accountId: identity.accountId,
    deviceId: identity.deviceId,
    deviceShortId: identity.deviceShortId,
    enrolledAt: new Date(ctx.now()).toISOString(),
    keyEncrypted: !!passphrase,
  };
  ctx.store.writeIdentity(
    config,
    { ...files, privateKeyPem: exportPrivateKey(identity.privateKey, passphrase) },
    answer.policy,
    ca,
  );
  if (ctx.options.json) {
    print(ctx, JSON.stringify({ ...config, stateDir: ctx.store.dir }));
  } else {
    print(ctx, `Enrolled "${deviceName}" for ${username} on ${client.baseUrl}`);
    print(ctx, `  Jami ID:   ${identity.accountId}`);
    print(ctx, `  Device ID: ${identity.deviceId}`);
    print(ctx, `  Valid until ${identity.device.validTo}`);
    print(ctx, `  Key:       ${passphrase ? 'encrypted with your passphrase' : 'not encrypted (no passphrase given)'}`);
    print(ctx, `  State:     ${ctx.store.dir}`);
  }
  return ExitCode.OK;
}
