import { X509Certificate } from 'node:crypto';
import { certificateKeyId } from './certificate';
import { Crl, isNewerCrl, parseCrl, verifyCrl } from './crl';
import { VerifiedDevice } from './device-chain';
import { createOcspRequest, readOcspResponse } from './ocsp';
import { TrustError, TrustErrorCode } from './trust.errors';

/** Somewhere CRLs of an issuer (the CA, or an account) can be found: the Enclave server, the DHT. */
export interface CrlSource {
  readonly name: string;
  /** Candidate DER CRLs of the issuer with this SHA-1 key id (each is verified before use). */
  fetch(issuerKeyId: string): Promise<Buffer[]>;
}

/** An OCSP responder: takes a DER request, answers a DER response. */
export type OcspQuery = (request: Buffer) => Promise<Buffer>;

export type RevocationMode = 'require' | 'best-effort';

export interface RevocationOptions {
  sources: CrlSource[];
  /** Asked for the device certificate when no CRL of its account can be had. */
  ocsp?: OcspQuery;
  /** A cached CRL older than this is fetched again. Default 60 s. */
  maxAgeMs?: number;
  /**
   * 'best-effort' (default, like Jami's soft-failing OCSP): no revocation data at all lets the peer through,
   * reported as 'unknown'. 'require': refuses it (REVOCATION_UNKNOWN).
   */
  mode?: RevocationMode;
  now?: () => number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export type RevocationStatus = 'good' | 'unknown';

interface CachedCrl {
  crl: Crl;
  fetchedAt: number;
}

/**
 * Checks a verified device chain against its issuers' CRLs (device on the account's CRL, account on the
 * CA's), with OCSP as a fallback. CRLs are verified against their issuer certificate, cached, and the newest
 * one wins whatever source it came from (a CRL found on the DHT can only add information).
 */
export class RevocationChecker {
  private readonly cache = new Map<string, CachedCrl>();
  private readonly inflight = new Map<string, Promise<Crl | undefined>>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: RevocationOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Throws TrustError(REVOKED) when the device or its account is revoked. */
  async checkDevice(peer: VerifiedDevice): Promise<RevocationStatus> {
    const [device, account] = await Promise.all([
      this.checkCertificate(peer.device, peer.account, peer.accountId, true),
      this.checkCertificate(peer.account, peer.ca, certificateKeyId(peer.ca), false),
    ]);
    const status = device === 'good' && account === 'good' ? 'good' : 'unknown';
    if (status === 'unknown' && this.opts.mode === 'require') {
      throw new TrustError(TrustErrorCode.REVOCATION_UNKNOWN, 'no revocation information for this device', {
        deviceId: peer.deviceId,
      });
    }
    return status;
  }

  /** Offers a CRL found elsewhere (e.g. on the DHT); kept when it verifies and is newer. */
  addCrl(der: Buffer, issuer: X509Certificate): boolean {
    let crl: Crl;
    try {
      crl = parseCrl(der);
    } catch {
      return false;
    }
    if (!verifyCrl(crl, issuer)) return false;
    const id = certificateKeyId(issuer);
    const cached = this.cache.get(id);
    if (!isNewerCrl(crl, cached?.crl)) return false;
    this.cache.set(id, { crl, fetchedAt: cached?.fetchedAt ?? this.now() });
    return true;
  }

  /** The newest verified CRL of an issuer we hold. */
  cachedCrl(issuerKeyId: string): Crl | undefined {
    return this.cache.get(issuerKeyId)?.crl;
  }

  /** Forgets cached CRLs so the next check fetches them again. */
  invalidate(issuerKeyId?: string): void {
    if (issuerKeyId) this.cache.delete(issuerKeyId);
    else this.cache.clear();
  }

  private async checkCertificate(
    cert: X509Certificate,
    issuer: X509Certificate,
    issuerKeyId: string,
    ocspFallback: boolean,
  ): Promise<RevocationStatus> {
    const crl = await this.crlOf(issuer, issuerKeyId);
    const serial = cert.serialNumber.toLowerCase().replace(/^0+/, '') || '0';
    if (crl) {
      const when = crl.revoked.get(serial);
      if (when) {
        throw new TrustError(
          TrustErrorCode.REVOKED,
          `the ${cert.ca ? 'account' : 'device'} certificate was revoked on ${when.toISOString()}`,
          { serialNumber: serial, issuer: issuerKeyId },
        );
      }
      return 'good';
    }
    if (ocspFallback && this.opts.ocsp) {
      try {
        const request = createOcspRequest(cert, issuer);
        const answer = readOcspResponse(await this.opts.ocsp(request.der), cert, issuer, request.nonce);
        if (answer.status === 'revoked') {
          throw new TrustError(TrustErrorCode.REVOKED, 'the device certificate is revoked (OCSP)', {
            serialNumber: serial,
          });
        }
        if (answer.status === 'good') return 'good';
      } catch (err) {
        if (err instanceof TrustError && err.code === TrustErrorCode.REVOKED) throw err;
        this.log('OCSP check failed', { error: (err as Error).message });
      }
    }
    return 'unknown';
  }

  private async crlOf(issuer: X509Certificate, issuerKeyId: string): Promise<Crl | undefined> {
    const cached = this.cache.get(issuerKeyId);
    const now = this.now();
    const fresh =
      cached &&
      now - cached.fetchedAt < this.maxAgeMs &&
      (!cached.crl.nextUpdate || cached.crl.nextUpdate.getTime() > now);
    if (fresh) return cached.crl;
    let pending = this.inflight.get(issuerKeyId);
    if (!pending) {
      pending = this.fetchCrl(issuer, issuerKeyId).finally(() => this.inflight.delete(issuerKeyId));
      this.inflight.set(issuerKeyId, pending);
    }
    return pending;
  }

  /**
   * Asks the sources in order (the server first: it is the authority) and stops at the first that yields a
   * CRL verified against the issuer; later sources (the DHT) only matter when the earlier ones fail.
   */
  private async fetchCrl(issuer: X509Certificate, issuerKeyId: string): Promise<Crl | undefined> {
    const cached = this.cache.get(issuerKeyId);
    for (const source of this.opts.sources) {
      let candidates: Buffer[];
      try {
        candidates = await source.fetch(issuerKeyId);
      } catch (err) {
        this.log('CRL source failed', { source: source.name, error: (err as Error).message });
        continue;
      }
      let best: Crl | undefined;
      for (const der of candidates) {
        let crl: Crl;
        try {
          crl = parseCrl(der);
        } catch {
          continue;
        }
        if (!verifyCrl(crl, issuer)) {
          this.log('ignored a CRL whose signature does not verify', { source: source.name });
          continue;
        }
        if (isNewerCrl(crl, best)) best = crl;
      }
      if (!best) continue;
      // A source never rolls the cache back to an older CRL than one already seen.
      const crl = cached && !isNewerCrl(best, cached.crl) && !best.der.equals(cached.crl.der) ? cached.crl : best;
      this.cache.set(issuerKeyId, { crl, fetchedAt: this.now() });
      return crl;
    }
    return cached?.crl;
  }

  private log(message: string, details?: Record<string, unknown>) {
    this.opts.log?.(message, details);
  }
}
