import pino, { Logger } from 'pino';

/** Paths never written to logs, whatever object they appear in. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.adminPassword',
  '*.privateKeyPem',
  '*.privateKey',
  '*.privateKeySealed',
  '*.masterKey',
  '*.bindPassword',
  '*.access_token',
  '*.token',
  '*.caKey',
  // Admin auth: second factors, password changes, the setup code (issue 9 §1)
  '*.totp',
  '*.recoveryCode',
  '*.recoveryCodes',
  '*.currentPassword',
  '*.newPassword',
  '*.setupCode',
  'config.bootstrap',
  'config.pki.masterKey',
  'config.metrics.token',
];

export function createLogger(level: string, format: 'json' | 'pretty', destination?: NodeJS.WritableStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'enclave' },
    ...(format === 'pretty' && !destination
      ? { transport: { target: 'pino-pretty', options: { singleLine: true } } }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
