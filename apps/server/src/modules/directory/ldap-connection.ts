import dns from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import ldap from 'ldapjs';

/** Where a connection attempt failed, in the order the steps happen. */
export type LdapStage = 'url' | 'dns' | 'tcp' | 'tls' | 'bind' | 'search';

export class LdapStageError extends Error {
  constructor(
    readonly stage: LdapStage,
    message: string,
    /** LDAP result code when the server answered (49 = invalid credentials). */
    readonly ldapCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LdapStageError';
  }
}

export interface LdapEndpoint {
  url: string;
  startTls: boolean;
  caCertPem?: string | null;
  timeoutMs?: number;
}

export interface LdapEntry {
  dn: string;
  /** Attribute values as strings (lower-cased attribute names). */
  text: Record<string, string[]>;
  /** Attribute values as bytes (binary attributes: objectGUID, photos). */
  bytes: Record<string, Buffer[]>;
}

const INVALID_CREDENTIALS = 49;

function toEntry(raw: ldap.SearchEntry): LdapEntry {
  const text: Record<string, string[]> = {};
  const bytes: Record<string, Buffer[]> = {};
  for (const attr of raw.attributes) {
    const name = attr.type.toLowerCase();
    text[name] = attr.values as string[];
    bytes[name] = (attr as unknown as { buffers: Buffer[] }).buffers;
  }
  return { dn: String(raw.objectName ?? ''), text, bytes };
}

/**
 * One connection to a directory with every step checked separately, so failures name their stage:
 * URL, DNS, TCP, TLS (ldaps or StartTLS, with an optional custom CA), bind, search.
 */
export class LdapConnection {
  private constructor(
    private readonly client: ldap.Client,
    readonly endpoint: LdapEndpoint,
  ) {}

  static async open(endpoint: LdapEndpoint): Promise<LdapConnection> {
    const timeout = endpoint.timeoutMs ?? 5000;
    let url: URL;
    try {
      url = new URL(endpoint.url);
      if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw new Error('scheme');
    } catch {
      throw new LdapStageError(
        'url',
        `Directory URL "${endpoint.url}" must be ldap://host[:port] or ldaps://host[:port]`,
      );
    }
    const secure = url.protocol === 'ldaps:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (secure ? 636 : 389));
    if (!net.isIP(host)) {
      try {
        await dns.lookup(host);
      } catch (err) {
        throw new LdapStageError('dns', `Cannot resolve ${host}: ${(err as Error).message}`, undefined, { cause: err });
      }
    }
    await probeTcp(host, port, timeout);
    const tlsOptions: tls.ConnectionOptions = {
      ca: endpoint.caCertPem ? [endpoint.caCertPem] : undefined,
      servername: net.isIP(host) ? undefined : host,
      rejectUnauthorized: true,
    };
    const client = ldap.createClient({
      url: [endpoint.url],
      tlsOptions: secure ? tlsOptions : undefined,
      connectTimeout: timeout,
      timeout: Math.max(timeout, 30_000),
      reconnect: false,
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        client.removeAllListeners('connect');
        const stage: LdapStage = secure || /certificate|tls|ssl/i.test(err.message) ? 'tls' : 'tcp';
        reject(
          new LdapStageError(
            stage,
            `${stage === 'tls' ? 'TLS' : 'Connection'} to ${endpoint.url} failed: ${err.message}`,
            undefined,
            { cause: err },
          ),
        );
      };
      client.once('connect', () => {
        client.removeListener('error', fail);
        client.removeListener('connectError', fail);
        resolve();
      });
      client.once('error', fail);
      client.once('connectError', fail);
      client.once('setupError', fail);
    });
    // After the connection is up, errors (server gone) must not crash the process.
    client.on('error', () => undefined);
    const conn = new LdapConnection(client, endpoint);
    if (endpoint.startTls && !secure) {
      await new Promise<void>((resolve, reject) =>
        client.starttls(tlsOptions, [], (err: Error | null) =>
          err
            ? reject(
                new LdapStageError('tls', `StartTLS with ${endpoint.url} failed: ${err.message}`, undefined, {
                  cause: err,
                }),
              )
            : resolve(),
        ),
      ).catch(async (err) => {
        await conn.close();
        throw err;
      });
    }
    return conn;
  }

  bind(dn: string, password: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.bind(dn, password, (err: (Error & { code?: number }) | null) => {
        if (!err) return resolve();
        const code = typeof err.code === 'number' ? err.code : undefined;
        reject(
          new LdapStageError(
            'bind',
            code === INVALID_CREDENTIALS
              ? `Bind as ${dn} refused: invalid credentials`
              : `Bind as ${dn} failed: ${err.message}`,
            code,
            { cause: err },
          ),
        );
      });
    });
  }

  /**
   * A paged search (RFC 2696): `onPage` runs for every page before the next one is requested, so callers
   * can write batches while the directory waits.
   */
  pagedSearch(
    base: string,
    opts: { filter: string; attributes: string[]; pageSize?: number; scope?: 'base' | 'one' | 'sub' },
    onPage: (entries: LdapEntry[]) => Promise<void>,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      let total = 0;
      let batch: LdapEntry[] = [];
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        reject(
          err instanceof LdapStageError
            ? err
            : new LdapStageError(
                'search',
                `Search under ${base} failed: ${(err as Error).message}`,
                (err as { code?: number }).code,
                {
                  cause: err,
                },
              ),
        );
      };
      this.client.search(
        base,
        {
          filter: opts.filter,
          scope: opts.scope ?? 'sub',
          attributes: opts.attributes,
          paged: { pageSize: opts.pageSize ?? 500, pagePause: true },
          timeLimit: 0,
        },
        (err, res) => {
          if (err) return fail(err);
          res.on('searchEntry', (entry) => {
            batch.push(toEntry(entry));
            total++;
          });
          // Pages are processed one after another; the last 'page' event is followed at once by 'end', so
          // 'end' waits for the page still in flight.
          let inFlight: Promise<void> = Promise.resolve();
          res.on('page', (...args: unknown[]) => {
            const next = args.find((a): a is (err?: Error) => void => typeof a === 'function');
            const page = batch;
            batch = [];
            inFlight = inFlight.then(() => onPage(page));
            inFlight.then(
              () => next?.(),
              (e) => {
                next?.(e as Error);
                fail(e);
              },
            );
          });
          res.on('error', fail);
          res.on('end', () => {
            if (failed) return;
            const rest = batch;
            batch = [];
            inFlight = inFlight.then(() => (rest.length ? onPage(rest) : undefined));
            inFlight.then(() => (failed ? undefined : resolve(total)), fail);
          });
        },
      );
    });
  }

  /** Entries of a small search (no paging), e.g. the one user being authenticated. */
  async search(
    base: string,
    opts: { filter: string; attributes: string[]; scope?: 'base' | 'one' | 'sub' },
  ): Promise<LdapEntry[]> {
    const out: LdapEntry[] = [];
    await new Promise<void>((resolve, reject) => {
      this.client.search(
        base,
        { filter: opts.filter, scope: opts.scope ?? 'sub', attributes: opts.attributes, sizeLimit: 2 },
        (err, res) => {
          if (err)
            return reject(
              new LdapStageError('search', `Search under ${base} failed: ${err.message}`, undefined, { cause: err }),
            );
          res.on('searchEntry', (e) => out.push(toEntry(e)));
          res.on('error', (e: Error & { code?: number }) =>
            e.code === 4
              ? resolve()
              : reject(new LdapStageError('search', `Search under ${base} failed: ${e.message}`, e.code, { cause: e })),
          );
          res.on('end', () => resolve());
        },
      );
    });
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.client.unbind(() => {
          this.client.destroy();
          resolve();
        });
      } catch {
        this.client.destroy();
        resolve();
      }
      setTimeout(resolve, 1000).unref();
    });
  }
}

function probeTcp(host: string, port: number, timeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LdapStageError('tcp', `No answer from ${host}:${port} within ${timeout} ms`));
    }, timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new LdapStageError('tcp', `Cannot connect to ${host}:${port}: ${err.message}`, undefined, { cause: err }));
    });
  });
}

/** RFC 4515 escaping for values put in filters. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
