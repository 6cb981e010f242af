import https from 'node:https';
import tls from 'node:tls';
import { JamsError, JamsErrorCode } from './jams.errors';

/** Beyond this difference between our clock and the server's, certificates look expired or not yet valid. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export interface JamsClientOptions {
  /** Server base URL ("https://enclave.example.org"); a path prefix is kept. */
  url: string;
  /** Extra trusted CA certificates (PEM) for the server's TLS certificate, e.g. the organization CA. */
  ca?: string;
  /** The device identity, for the mTLS device login. */
  clientCertificate?: { chainPem: string; keyPem: string; passphrase?: string };
  timeoutMs?: number;
  /** Local clock, for the skew check (tests move it). */
  now?: () => number;
}

/** The flat enrollment answer (jams-protocol.md §3.1): identity fields plus daemon policy keys. */
export interface EnrollmentAnswer {
  certificateChain: string;
  deviceReceipt: string;
  receiptSignature: string;
  nameServer?: string;
  displayName?: string;
  /** Every other scalar member: the policy's daemon keys. */
  policy: Record<string, string | number | boolean>;
}

export interface JamsDevice {
  deviceId: string;
  alias: string;
  revoked: boolean;
}

interface HttpAnswer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
]);
const CLOCK_TLS_ERRORS = new Set(['CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED']);

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

/**
 * The JAMS client protocol as an Enclave agent uses it: enrollment, device and user login, devices, policy,
 * name server, CRL and OCSP. One HTTPS request per call. Errors are JamsError with a precise code; every
 * answer's Date header updates the measured clock skew.
 */
export class JamsClient {
  readonly baseUrl: string;
  private skewMs: number | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: JamsClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url.includes('://') ? opts.url : `https://${opts.url}`);
    } catch {
      throw new JamsError(JamsErrorCode.UNREACHABLE, `"${opts.url}" is not a server URL`);
    }
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.now = opts.now ?? Date.now;
  }

  /** Server clock minus ours, in ms, from the last answer's Date header (undefined before any answer). */
  get clockSkewMs(): number | undefined {
    return this.skewMs;
  }

  /** Throws CLOCK_SKEW when the last answer showed our clock more than MAX_CLOCK_SKEW_MS off. */
  assertClockInSync(): void {
    if (this.skewMs !== undefined && Math.abs(this.skewMs) > MAX_CLOCK_SKEW_MS) {
      const minutes = Math.round(Math.abs(this.skewMs) / 60_000);
      throw new JamsError(
        JamsErrorCode.CLOCK_SKEW,
        `this machine's clock is ${minutes} min ${this.skewMs > 0 ? 'behind' : 'ahead of'} the server's; ` +
          'fix the system time (NTP) and try again',
      );
    }
  }

  /**
   * Cheap checks before an enrollment spends seconds on a key: the server answers over trusted TLS
   * (GET /api/ca) and our clock agrees with its Date header. Throws UNREACHABLE, TLS_UNTRUSTED, CLOCK_SKEW.
   */
  async preflight(): Promise<void> {
    const res = await this.call('GET', '/api/ca');
    this.assertClockInSync();
    this.expectOk(res, 'server check');
  }

  /** POST /api/auth/device (Basic): the CSR's certificate chain, the receipt and the policy. */
  async enroll(args: {
    username: string;
    password: string;
    csr: string;
    deviceName: string;
  }): Promise<EnrollmentAnswer> {
    const res = await this.call('POST', '/api/auth/device', {
      json: { csr: args.csr, deviceName: args.deviceName },
      headers: { authorization: basic(args.username, args.password) },
    });
    this.assertClockInSync();
    if (res.status === 401 || res.status === 403) {
      throw new JamsError(
        JamsErrorCode.CREDENTIALS_REJECTED,
        `the server refused the credentials of "${args.username}" (${this.errorText(res)})`,
        res.status,
      );
    }
    this.expectOk(res, 'enrollment');
    const body = this.json(res, 'enrollment') as Record<string, unknown>;
    const { certificateChain, deviceReceipt, receiptSignature, nameServer, ...rest } = body;
    if (
      typeof certificateChain !== 'string' ||
      typeof deviceReceipt !== 'string' ||
      typeof receiptSignature !== 'string'
    ) {
      throw new JamsError(JamsErrorCode.SERVER_ERROR, 'the enrollment answer lacks the certificate chain or receipt');
    }
    const policy: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(rest)) {
      if (['string', 'number', 'boolean'].includes(typeof v) && k !== 'userPhoto') policy[k] = v as string;
    }
    return {
      certificateChain,
      deviceReceipt,
      receiptSignature,
      nameServer: typeof nameServer === 'string' ? nameServer : undefined,
      displayName: typeof body['Account.displayName'] === 'string' ? body['Account.displayName'] : undefined,
      policy,
    };
  }

  /** POST /api/login with the device certificate: a DEVICE token. 401 means the device is revoked. */
  async loginDevice(): Promise<string> {
    if (!this.opts.clientCertificate) throw new Error('loginDevice needs the device certificate');
    const res = await this.call('POST', '/api/login', { json: {}, mtls: true });
    if (res.status === 401) {
      throw new JamsError(
        JamsErrorCode.DEVICE_REVOKED,
        `the server refused this device's certificate: it has been revoked (${this.errorText(res)})`,
        401,
      );
    }
    this.expectOk(res, 'device login');
    return this.token(res);
  }

  /** POST /api/login with Basic credentials: a USER token (403 on bad credentials). */
  async loginUser(username: string, password: string): Promise<string> {
    const res = await this.call('POST', '/api/login', {
      json: {},
      headers: { authorization: basic(username, password) },
    });
    if (res.status === 401 || res.status === 403) {
      throw new JamsError(JamsErrorCode.CREDENTIALS_REJECTED, `the server refused the credentials of "${username}"`);
    }
    this.expectOk(res, 'login');
    return this.token(res);
  }

  async devices(token: string): Promise<JamsDevice[]> {
    const res = await this.call('GET', '/api/auth/devices', { headers: { authorization: `Bearer ${token}` } });
    this.expectOk(res, 'device list');
    const list = this.json(res, 'device list');
    if (!Array.isArray(list)) throw new JamsError(JamsErrorCode.SERVER_ERROR, 'the device list is not an array');
    return list.map((d: Record<string, unknown>) => ({
      deviceId: String(d.deviceId),
      alias: String(d.alias ?? ''),
      revoked: d.revoked === true,
    }));
  }

  async policyData(token: string): Promise<Record<string, string | number | boolean>> {
    const res = await this.call('GET', '/api/auth/policyData', { headers: { authorization: `Bearer ${token}` } });
    this.expectOk(res, 'policy');
    const body = this.json(res, 'policy');
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new JamsError(JamsErrorCode.SERVER_ERROR, 'the policy is not a JSON object');
    }
    return body as Record<string, string | number | boolean>;
  }

  /** Name server lookup: the Jami ID (40 hex) registered for a name. NOT_FOUND when there is none. */
  async lookupName(name: string, nameServer = '/api/nameserver'): Promise<{ name: string; accountId: string }> {
    const base = nameServer.startsWith('/') ? nameServer : new URL(nameServer).pathname;
    const res = await this.call('GET', `${base.replace(/\/+$/, '')}/name/${encodeURIComponent(name)}`);
    if (res.status === 404 || res.status === 400) {
      throw new JamsError(JamsErrorCode.NOT_FOUND, `no user named "${name}" in the organization`, res.status);
    }
    this.expectOk(res, 'name lookup');
    const body = this.json(res, 'name lookup') as { name?: unknown; addr?: unknown };
    const addr = String(body.addr ?? '')
      .replace(/^0x/, '')
      .toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(addr)) throw new JamsError(JamsErrorCode.NOT_FOUND, `no Jami ID for "${name}"`);
    return { name: typeof body.name === 'string' ? body.name : name, accountId: addr };
  }

  /** GET /api/crl/{issuerKeyId}: the issuer's current DER CRL. */
  async crl(issuerKeyId: string): Promise<Buffer> {
    const res = await this.call('GET', `/api/crl/${issuerKeyId}`);
    this.expectOk(res, 'CRL');
    return res.body;
  }

  /** POST /api/ocsp. */
  async ocsp(request: Buffer): Promise<Buffer> {
    const res = await this.call('POST', '/api/ocsp', {
      body: request,
      headers: { 'content-type': 'application/ocsp-request' },
    });
    this.expectOk(res, 'OCSP');
    return res.body;
  }

  /** GET /api/ca: the organization CA certificate (PEM). */
  async caCertificate(): Promise<string> {
    const res = await this.call('GET', '/api/ca');
    this.expectOk(res, 'CA certificate');
    return res.body.toString('utf8');
  }

  // ---------------------------------------------------------------- HTTP

  private token(res: HttpAnswer): string {
    const body = this.json(res, 'login') as { access_token?: unknown };
    if (typeof body.access_token !== 'string')
      throw new JamsError(JamsErrorCode.SERVER_ERROR, 'login answer has no token');
    return body.access_token;
  }

  private expectOk(res: HttpAnswer, what: string) {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429) {
      throw new JamsError(JamsErrorCode.TOO_MANY_ATTEMPTS, `${what}: too many attempts, try again later`, 429);
    }
    throw new JamsError(
      JamsErrorCode.SERVER_ERROR,
      `${what} failed: HTTP ${res.status} (${this.errorText(res)})`,
      res.status,
    );
  }

  private errorText(res: HttpAnswer): string {
    try {
      const body = JSON.parse(res.body.toString('utf8')) as { message?: unknown; code?: unknown };
      if (typeof body.message === 'string') return body.code ? `${body.code}: ${body.message}` : body.message;
    } catch {
      // not JSON
    }
    return `HTTP ${res.status}`;
  }

  private json(res: HttpAnswer, what: string): unknown {
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new JamsError(JamsErrorCode.SERVER_ERROR, `the ${what} answer is not JSON`);
    }
  }

  private call(
    method: string,
    path: string,
    opts: { json?: unknown; body?: Buffer; headers?: Record<string, string>; mtls?: boolean } = {},
  ): Promise<HttpAnswer> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'enclave-agent',
      ...opts.headers,
    };
    let payload = opts.body;
    if (opts.json !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.json));
      headers['content-type'] = 'application/json';
    }
    if (payload) headers['content-length'] = String(payload.length);
    const cert = opts.mtls ? this.opts.clientCertificate : undefined;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          headers,
          ca: this.opts.ca ? [...tls.rootCertificates, this.opts.ca] : undefined,
          cert: cert?.chainPem,
          key: cert?.keyPem,
          passphrase: cert?.passphrase,
          agent: false,
          timeout: this.opts.timeoutMs ?? 15_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const date = res.headers.date ? Date.parse(res.headers.date) : NaN;
            if (!Number.isNaN(date)) this.skewMs = date - this.now();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(payload);
    }).catch((err: NodeJS.ErrnoException) => {
      throw this.networkError(err);
    });
  }

  private networkError(err: NodeJS.ErrnoException): JamsError {
    const code = err.code ?? '';
    if (NETWORK_ERRORS.has(code)) {
      return new JamsError(
        JamsErrorCode.UNREACHABLE,
        `cannot reach ${this.baseUrl}: ${code} ${err.message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (CLOCK_TLS_ERRORS.has(code)) {
      return new JamsError(
        JamsErrorCode.CLOCK_SKEW,
        `the server's TLS certificate is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not yet valid'} by this ` +
          "machine's clock: check the system time",
        undefined,
        { cause: err },
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ALTNAME/.test(code)) {
      return new JamsError(
        JamsErrorCode.TLS_UNTRUSTED,
        `the server's TLS certificate is not trusted (${code}); pass the organization CA with --ca`,
        undefined,
        { cause: err },
      );
    }
    if (err instanceof JamsError) return err;
    return new JamsError(JamsErrorCode.UNREACHABLE, `cannot reach ${this.baseUrl}: ${err.message}`, undefined, {
      cause: err,
    });
  }
}
