import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : ['1', 'true', 'yes'].includes(v)));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const url = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

/**
 * Every environment variable Enclave reads. The README's configuration table and .env.example list the
 * same variables; a test keeps the three in step.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).optional().default('development'),
  ENCLAVE_PORT: int(8443, 0, 65535),
  ENCLAVE_HOST: optionalString.default('0.0.0.0'),
  ENCLAVE_PUBLIC_URL: url(['https:', 'http:']).default('https://localhost:8443'),
  ENCLAVE_TLS_CERT: optionalString,
  ENCLAVE_TLS_KEY: optionalString,
  // Behind a TLS-terminating reverse proxy (issue 14): the header carrying the client certificate, trusted only
  // from the listed proxy addresses (IPs or CIDRs, comma-separated).
  ENCLAVE_CLIENT_CERT_HEADER: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9-]+$/.test(v), {
    message: 'must be an HTTP header name',
  }),
  ENCLAVE_TRUSTED_PROXIES: optionalString,
  ENCLAVE_DATA_DIR: optionalString.default('./data'),
  ENCLAVE_DHT_PORT: int(4222, 0, 65535),
  ENCLAVE_DHT_NETWORK: int(0, 0, 4294967295),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  ENCLAVE_SKIP_MIGRATIONS: bool(false),
  REDIS_URL: url(['redis:', 'rediss:']),
  ENCLAVE_RUN_WORKERS: bool(true),
  ENCLAVE_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{1,32}$/, 'must be 1 to 32 characters among a-z, A-Z, 0-9, _ and -')
    .optional()
    .default('enclave'),
  ENCLAVE_KEY_POOL_SIZE: int(8, 0, 10000),
  ENCLAVE_MASTER_KEY: optionalString.refine(
    (v) => v === undefined || /^[0-9a-fA-F]{64}$/.test(v) || Buffer.from(v, 'base64').length === 32,
    { message: 'must be 32 bytes as 64 hex characters or base64' },
  ),
  ENCLAVE_ADMIN_USER: optionalString,
  ENCLAVE_ADMIN_PASSWORD: optionalString,
  ENCLAVE_ORG_NAME: optionalString,
  ENCLAVE_CA_CERT: optionalString,
  ENCLAVE_CA_KEY: optionalString,
  ENCLAVE_CA_ALGORITHM: z.enum(['RSA-4096', 'P-256']).optional().default('RSA-4096'),
  ENCLAVE_ACCOUNT_CERT_DAYS: int(3650, 1, 36500),
  ENCLAVE_DEVICE_CERT_DAYS: int(1095, 1, 36500),
  ENCLAVE_CRL_HOURS: int(24, 1, 8760),
  ENCLAVE_DEFAULT_POLICY: optionalString,
  ENCLAVE_ADMIN_TOKEN_TTL: int(43200, 60, 2592000),
  ENCLAVE_DEVICE_TOKEN_TTL: int(3600, 60, 604800),
  ENCLAVE_LOGIN_MAX_FAILURES: int(5, 1, 1000),
  ENCLAVE_LOGIN_WINDOW_SECONDS: int(900, 1, 86400),
  ENCLAVE_METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 24, {
    message: 'must be at least 24 characters',
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export type RawEnv = z.input<typeof envSchema>;
