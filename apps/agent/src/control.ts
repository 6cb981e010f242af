import fs from 'node:fs';
import net from 'node:net';
import { AgentError, ExitCode } from './agent.errors';

/**
 * The running daemon's local control socket (a Unix socket in the private state directory): one JSON request
 * per connection, one JSON answer. Lets `send`, `lookup` and `status` use the daemon's warm DHT node and
 * connections instead of starting their own.
 */
export type ControlRequest =
  { op: 'status' } | { op: 'send'; accountId: string; message: string } | { op: 'lookup'; accountId: string };

type ControlAnswer = { ok: true; result: unknown } | { ok: false; message: string; exitCode: number };

export async function serveControl(
  socketPath: string,
  handle: (req: ControlRequest) => Promise<unknown>,
): Promise<net.Server> {
  if (fs.existsSync(socketPath)) {
    if (await callDaemon(socketPath, { op: 'status' }, 1_000).catch(() => undefined)) {
      throw new AgentError(ExitCode.STATE, 'an agent is already running with this state directory');
    }
    fs.rmSync(socketPath, { force: true });
  }
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        sock.end(`${JSON.stringify({ ok: false, message: 'bad request', exitCode: ExitCode.USAGE })}\n`);
        return;
      }
      handle(req).then(
        (result) => sock.end(`${JSON.stringify({ ok: true, result } satisfies ControlAnswer)}\n`),
        (err: Error) =>
          sock.end(
            `${JSON.stringify({
              ok: false,
              message: err.message,
              exitCode: err instanceof AgentError ? err.exitCode : ExitCode.FAILURE,
            } satisfies ControlAnswer)}\n`,
          ),
      );
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}

/** Asks the daemon; undefined when none is running. Rejects with AgentError when the daemon reports a failure. */
export function callDaemon(socketPath: string, req: ControlRequest, timeoutMs = 60_000): Promise<unknown | undefined> {
  if (!fs.existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AgentError(ExitCode.FAILURE, 'the running agent did not answer in time'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => (buf += chunk));
    sock.on('error', () => {
      clearTimeout(timer);
      resolve(undefined); // stale socket: no daemon
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const answer = JSON.parse(buf) as ControlAnswer;
        if (answer.ok) resolve(answer.result);
        else reject(new AgentError(answer.exitCode as ExitCode, answer.message));
      } catch {
        resolve(undefined);
      }
    });
  });
}
