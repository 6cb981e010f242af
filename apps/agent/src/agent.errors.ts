import {
  DhtProxyError,
  IdentityError,
  IdentityErrorCode,
  JamsError,
  JamsErrorCode,
  NoDeviceError,
  TrustError,
  TrustErrorCode,
} from '@enclave/core';

/** The agent's exit codes: one per failure a script (or a person) must tell apart. Documented in the README. */
export enum ExitCode {
  OK = 0,
  /** Unexpected failure (a bug, or an error from the system). */
  FAILURE = 1,
  /** Bad command line. */
  USAGE = 2,
  /** The server cannot be reached (refused, unknown host, timeout). */
  SERVER_UNREACHABLE = 3,
  /** Username or password refused. */
  CREDENTIALS_REJECTED = 4,
  /** This device has been revoked by the organization. */
  DEVICE_REVOKED = 5,
  /** The machine's clock is too far from the server's. */
  CLOCK_SKEW = 6,
  /** Not enrolled yet, already enrolled, or the state directory is unusable. */
  STATE = 7,
  /** No such user, or the user has no device on the network. */
  NOT_FOUND = 8,
  /** The device key or the archive needs a passphrase, or the one given is wrong. */
  PASSPHRASE = 9,
  /** The server refused or failed the request for another reason. */
  SERVER_ERROR = 10,
  /** The server's TLS certificate is not trusted (pass --ca). */
  TLS_UNTRUSTED = 11,
  /** The stored identity is invalid (expired certificate, receipt mismatch, …). */
  IDENTITY_INVALID = 12,
  /** The DHT proxy (policy Account.proxyServer, or --dht-proxy) cannot be reached or is not a proxy. */
  DHT_PROXY_UNREACHABLE = 13,
  /** host-room: the Jami daemon (Debian package jami-daemon) or its D-Bus tools are not installed. */
  JAMI_DAEMON_MISSING = 14,
  /** run: no DHT bootstrap node configured, or none of them (nor any cached node) answered. */
  NO_BOOTSTRAP = 15,
}

export class AgentError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** What to do about it, shown under the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

const JAMS_EXIT: Record<JamsErrorCode, ExitCode> = {
  [JamsErrorCode.UNREACHABLE]: ExitCode.SERVER_UNREACHABLE,
  [JamsErrorCode.TLS_UNTRUSTED]: ExitCode.TLS_UNTRUSTED,
  [JamsErrorCode.CREDENTIALS_REJECTED]: ExitCode.CREDENTIALS_REJECTED,
  [JamsErrorCode.DEVICE_REVOKED]: ExitCode.DEVICE_REVOKED,
  [JamsErrorCode.CLOCK_SKEW]: ExitCode.CLOCK_SKEW,
  [JamsErrorCode.NOT_FOUND]: ExitCode.NOT_FOUND,
  [JamsErrorCode.TOO_MANY_ATTEMPTS]: ExitCode.SERVER_ERROR,
  [JamsErrorCode.SERVER_ERROR]: ExitCode.SERVER_ERROR,
};

const JAMS_HINT: Partial<Record<JamsErrorCode, string>> = {
  [JamsErrorCode.UNREACHABLE]: 'check the server URL and the network, then try again',
  [JamsErrorCode.TLS_UNTRUSTED]: 'pass the organization CA certificate with --ca FILE (it is served at /api/ca)',
  [JamsErrorCode.CREDENTIALS_REJECTED]: 'check the username and password',
  [JamsErrorCode.DEVICE_REVOKED]: 'ask your administrator, then enroll again (enclave-agent enroll --force …)',
  [JamsErrorCode.CLOCK_SKEW]: 'synchronize the system clock (NTP), then try again',
};

/** Maps any error to what the CLI prints and its exit code. */
export function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  if (err instanceof JamsError) return new AgentError(JAMS_EXIT[err.code], err.message, JAMS_HINT[err.code]);
  if (err instanceof IdentityError) {
    return err.code === IdentityErrorCode.KEY_LOCKED
      ? new AgentError(
          ExitCode.PASSPHRASE,
          err.message,
          'give it with --passphrase-file FILE, --passphrase-stdin or ENCLAVE_AGENT_PASSPHRASE',
        )
      : new AgentError(ExitCode.IDENTITY_INVALID, `the stored identity is invalid: ${err.message}`, 'enroll again');
  }
  if (err instanceof TrustError) {
    if (err.code === TrustErrorCode.REVOKED) return new AgentError(ExitCode.DEVICE_REVOKED, err.message);
    if (err.code === TrustErrorCode.CERTIFICATE_EXPIRED || err.code === TrustErrorCode.CERTIFICATE_NOT_YET_VALID) {
      return new AgentError(
        ExitCode.IDENTITY_INVALID,
        `the stored identity is not valid now: ${err.message}`,
        'check the system clock; if it is right, enroll again',
      );
    }
    return new AgentError(ExitCode.IDENTITY_INVALID, `the stored identity is invalid: ${err.message}`, 'enroll again');
  }
  if (err instanceof NoDeviceError) return new AgentError(ExitCode.NOT_FOUND, err.message);
  if (err instanceof DhtProxyError) {
    return new AgentError(
      err.code === 'BAD_URL' ? ExitCode.USAGE : ExitCode.DHT_PROXY_UNREACHABLE,
      err.message,
      'check the organization policy (Account.proxyServer) or pass --dht-proxy URL, or --dht-proxy off',
    );
  }
  return new AgentError(ExitCode.FAILURE, err instanceof Error ? err.message : String(err));
}
