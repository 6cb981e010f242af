import fs from 'node:fs';
import { exportPrivateKey, loadDeviceIdentity } from '@enclave/core';
import { AgentError, ExitCode } from '../agent.errors';
import { openArchive, sealArchive } from '../archive';
import { Context, loadIdentity, print, readPassphrase } from '../context';

/** `backup FILE`: the identity as an encrypted archive (the passphrase is required). */
export async function backupCommand(ctx: Context): Promise<ExitCode> {
  const file = ctx.args[0];
  if (!file) throw new AgentError(ExitCode.USAGE, 'usage: enclave-agent backup FILE');
  const config = ctx.store.requireEnrolled();
  if (fs.existsSync(file) && !ctx.options.force) {
    throw new AgentError(ExitCode.USAGE, `${file} exists`, 'choose another file name, or add --force');
  }
  const passphrase = (await readPassphrase(ctx, true, 'Backup passphrase'))!;
  const identity = await loadIdentity(ctx, config);
  const files = ctx.store.identityFiles();
  const archive = sealArchive(
    {
      version: 1,
      createdAt: new Date(ctx.now()).toISOString(),
      config,
      identity: { ...files, privateKeyPem: exportPrivateKey(identity.privateKey) },
      policy: ctx.store.policy(),
      serverCa: ctx.store.serverCa(),
    },
    passphrase,
  );
  fs.writeFileSync(file, archive, { mode: 0o600 });
  print(ctx, `Backed up the identity of ${config.username} (device ${identity.deviceId}) to ${file}`);
  return ExitCode.OK;
}

/** `restore FILE`: checks the archive's identity and installs it in the state directory. */
export async function restoreCommand(ctx: Context): Promise<ExitCode> {
  const file = ctx.args[0];
  if (!file) throw new AgentError(ExitCode.USAGE, 'usage: enclave-agent restore FILE');
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new AgentError(ExitCode.USAGE, `cannot read ${file}: ${(err as Error).message}`);
  }
  if (ctx.store.enrolled && !ctx.options.force) {
    throw new AgentError(
      ExitCode.STATE,
      `an identity is already stored in ${ctx.store.dir}`,
      'add --force to replace it with the backup',
    );
  }
  const passphrase = (await readPassphrase(ctx, true, 'Backup passphrase'))!;
  const content = openArchive(data, passphrase);
  const identity = loadDeviceIdentity(content.identity, undefined, new Date(ctx.now()));
  if (identity.deviceShortId !== content.config.deviceShortId) {
    throw new AgentError(ExitCode.IDENTITY_INVALID, 'the backup is inconsistent (device id mismatch)');
  }
  const keyPem = exportPrivateKey(identity.privateKey, content.config.keyEncrypted ? passphrase : undefined);
  ctx.store.writeIdentity(
    content.config,
    { ...content.identity, privateKeyPem: keyPem },
    content.policy,
    content.serverCa,
  );
  print(ctx, `Restored the identity of ${content.config.username} (device ${identity.deviceId}) into ${ctx.store.dir}`);
  return ExitCode.OK;
}
