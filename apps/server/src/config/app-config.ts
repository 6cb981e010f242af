import path from 'node:path';
import { PolicySettings, policyProblems } from '../modules/policy/daemon-keys';
import { envSchema } from './config.schema';
import { isAddressOrCidr } from '../common/proxy-client-cert';

export type CaAlgorithm = 'RSA-4096' | 'P-256';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  http: {
    port: number;
    host: string;
    publicUrl: string;
    /** Host part of the public URL, without brackets for IPv6. */
    publicHost: string;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    /** Lower-case header a trusted proxy puts the client certificate in (URL-encoded PEM or base64 DER). */
    clientCertHeader?: string;
    /** Addresses/CIDRs of the proxies whose client-certificate header is believed. */
    trustedProxies: string[];
  };
  database: {
    /** External server; undefined means the embedded PostgreSQL under dataDir. */
    url?: string;
    dataDir: string;
    skipMigrations: boolean;
  };
  queue: {
    redisUrl?: string;
    /** Redis key prefix, or the PostgreSQL schema suffix, so several deployments can share one server. */
    prefix: string;
    runWorkers: boolean;
    keyPoolSize: number;
  };
  pki: {
    masterKey?: string;
    caAlgorithm: CaAlgorithm;
    accountCertDays: number;
    deviceCertDays: number;
    crlHours: number;
  };
  bootstrap: {
    adminUser?: string;
    adminPassword?: string;
    orgName?: string;
    caCert?: string;
    caKey?: string;
  };
  auth: {
    tokenTtlSeconds: number;
    deviceTokenTtlSeconds: number;
    loginMaxFailures: number;
    loginWindowSeconds: number;
  };
  /** Default policy sent to devices as Jami daemon keys. */
  policy: { defaults: PolicySettings };
  /** GET /metrics also accepts this bearer token (for a Prometheus server), besides admin tokens. */
  metrics: { token?: string };
  /** The server's own DHT node (UDP, bound like HTTPS); port 0 turns it off. */
  dht: { port: number; networkId: number };
  log: { level: string; format: 'json' | 'pretty' };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if ((e.ENCLAVE_CLIENT_CERT_HEADER === undefined) !== (e.ENCLAVE_TRUSTED_PROXIES === undefined)) {
    problems.push('ENCLAVE_CLIENT_CERT_HEADER and ENCLAVE_TRUSTED_PROXIES: set both or neither');
  }
  for (const p of (e.ENCLAVE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!isAddressOrCidr(p)) problems.push(`ENCLAVE_TRUSTED_PROXIES: ${p} is not an IP address or CIDR`);
  }
  if ((e.ENCLAVE_TLS_CERT === undefined) !== (e.ENCLAVE_TLS_KEY === undefined)) {
    problems.push('ENCLAVE_TLS_CERT and ENCLAVE_TLS_KEY: set both or neither');
  }
  if ((e.ENCLAVE_CA_CERT === undefined) !== (e.ENCLAVE_CA_KEY === undefined)) {
    problems.push('ENCLAVE_CA_CERT and ENCLAVE_CA_KEY: set both or neither');
  }
  if ((e.ENCLAVE_ADMIN_USER === undefined) !== (e.ENCLAVE_ADMIN_PASSWORD === undefined)) {
    problems.push('ENCLAVE_ADMIN_USER and ENCLAVE_ADMIN_PASSWORD: set both or neither');
  }
  if (e.ENCLAVE_ADMIN_PASSWORD !== undefined && e.ENCLAVE_ADMIN_PASSWORD.length < 8) {
    problems.push('ENCLAVE_ADMIN_PASSWORD: must be at least 8 characters');
  }
  if (e.ENCLAVE_CA_CERT !== undefined && e.ENCLAVE_ADMIN_USER === undefined) {
    problems.push('ENCLAVE_CA_CERT: a CA can only be imported at unattended first start (set ENCLAVE_ADMIN_USER too)');
  }
  let policy: PolicySettings = {};
  if (e.ENCLAVE_DEFAULT_POLICY !== undefined) {
    try {
      const parsed: unknown = JSON.parse(e.ENCLAVE_DEFAULT_POLICY);
      const bad = policyProblems(parsed);
      if (bad.length) problems.push(...bad.map((p) => `ENCLAVE_DEFAULT_POLICY: ${p}`));
      else policy = parsed as PolicySettings;
    } catch {
      problems.push('ENCLAVE_DEFAULT_POLICY: must be a JSON object');
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const publicUrl = new URL(e.ENCLAVE_PUBLIC_URL);
  return {
    env: e.NODE_ENV,
    http: {
      port: e.ENCLAVE_PORT,
      host: e.ENCLAVE_HOST,
      publicUrl: publicUrl.toString().replace(/\/$/, ''),
      publicHost: publicUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
      tlsCertFile: e.ENCLAVE_TLS_CERT,
      tlsKeyFile: e.ENCLAVE_TLS_KEY,
      clientCertHeader: e.ENCLAVE_CLIENT_CERT_HEADER?.toLowerCase(),
      trustedProxies: (e.ENCLAVE_TRUSTED_PROXIES ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    },
    database: {
      url: e.DATABASE_URL,
      dataDir: path.resolve(e.ENCLAVE_DATA_DIR),
      skipMigrations: e.ENCLAVE_SKIP_MIGRATIONS,
    },
    queue: {
      redisUrl: e.REDIS_URL,
      prefix: e.ENCLAVE_QUEUE_PREFIX,
      runWorkers: e.ENCLAVE_RUN_WORKERS,
      keyPoolSize: e.ENCLAVE_KEY_POOL_SIZE,
    },
    pki: {
      masterKey: e.ENCLAVE_MASTER_KEY,
      caAlgorithm: e.ENCLAVE_CA_ALGORITHM,
      accountCertDays: e.ENCLAVE_ACCOUNT_CERT_DAYS,
      deviceCertDays: e.ENCLAVE_DEVICE_CERT_DAYS,
      crlHours: e.ENCLAVE_CRL_HOURS,
    },
    bootstrap: {
      adminUser: e.ENCLAVE_ADMIN_USER,
      adminPassword: e.ENCLAVE_ADMIN_PASSWORD,
      orgName: e.ENCLAVE_ORG_NAME,
      caCert: e.ENCLAVE_CA_CERT,
      caKey: e.ENCLAVE_CA_KEY,
    },
    auth: {
      tokenTtlSeconds: e.ENCLAVE_ADMIN_TOKEN_TTL,
      deviceTokenTtlSeconds: e.ENCLAVE_DEVICE_TOKEN_TTL,
      loginMaxFailures: e.ENCLAVE_LOGIN_MAX_FAILURES,
      loginWindowSeconds: e.ENCLAVE_LOGIN_WINDOW_SECONDS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT ?? 'json' },
    policy: { defaults: policy },
    metrics: { token: e.ENCLAVE_METRICS_TOKEN },
    dht: { port: e.ENCLAVE_DHT_PORT, networkId: e.ENCLAVE_DHT_NETWORK },
  };
}

/** Injection token for the parsed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** For entry points: the parsed configuration, or exit code 2 with every problem on stderr. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv): AppConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
