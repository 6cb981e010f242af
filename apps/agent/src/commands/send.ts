import { EnclavePeer, SendResult } from '@enclave/core';
import { AgentError, ExitCode } from '../agent.errors';
import { callDaemon } from '../control';
import { Context, loadIdentity, peerOptions, print, resolveAccount, serverClient } from '../context';

/**
 * `send NAME MESSAGE`: to every device of the colleague, directly over a secure connection when it answers,
 * otherwise queued in its DHT inbox. Through the running agent when there is one (which keeps retrying);
 * otherwise with a short-lived peer, leaving undelivered messages for the next `enclave-agent run`.
 */
export async function sendCommand(ctx: Context): Promise<ExitCode> {
  const [name, ...words] = ctx.args;
  const message = words.join(' ');
  if (!name || !message) throw new AgentError(ExitCode.USAGE, 'usage: enclave-agent send NAME MESSAGE');
  const config = ctx.store.requireEnrolled();
  const identity = await loadIdentity(ctx, config);
  const client = serverClient(ctx, config, identity);
  const account = await resolveAccount(config, client, name);
  let result = (await callDaemon(ctx.store.path('socket'), { op: 'send', accountId: account.accountId, message })) as
    SendResult | undefined;
  if (!result) {
    const peer = new EnclavePeer(peerOptions(ctx, identity, client, ctx.store.messageStore()));
    await peer.start();
    try {
      result = await peer.send(account.accountId, message);
    } finally {
      await peer.stop();
    }
  }
  if (ctx.options.json) {
    print(ctx, JSON.stringify({ to: account, ...result }));
    return ExitCode.OK;
  }
  for (const d of result.devices) {
    print(
      ctx,
      d.status === 'delivered'
        ? `delivered to ${account.name} (device ${d.deviceShortId})`
        : `queued for ${account.name} (device ${d.deviceShortId} is not reachable now; ` +
            'the message waits in its inbox and `enclave-agent run` keeps retrying)',
    );
  }
  return ExitCode.OK;
}
