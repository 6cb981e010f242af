import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import {
  CertificateInfo,
  PkiError,
  RevocationReason,
  SignerPem,
  createCertificateAuthority,
  createCrl,
  importCertificateAuthority,
  keyId,
  ocspKeyHashes,
  ocspNameHashes,
  respondOcsp,
} from '@enclave/pki';
import { DataSource, EntityManager, In, IsNull, MoreThan, Not, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import { APP_CONFIG, AppConfig, CaAlgorithm } from '../../config/app-config';
import { CaSettingsService, CaSettingsValues } from './ca-settings.service';
import { CertificateAuthority } from './certificate-authority.entity';
import { Crl } from './crl.entity';
import { CertificateKind, IssuedCertificate } from './issued-certificate.entity';

export type CaInput =
  | { mode: 'generate'; commonName: string; organization?: string; algorithm: CaAlgorithm }
  | { mode: 'import'; certificatePem: string; privateKeyPem: string };

/** A CA created or imported in memory, not yet stored. */
export interface PreparedCa extends SignerPem, CertificateInfo {
  keyId: string;
  algorithm: string;
  imported: boolean;
}

/** An issuer whose certificates appear in CRLs and OCSP answers: the org CA, or an account. */
export interface Issuer {
  keyId: string;
  signer: SignerPem;
}

/**
 * Whoever holds account and device certificates (the accounts module): renewal and CA rotation replace a
 * certificate through this port instead of writing the holders' tables.
 */
export interface CertificateHolders {
  /** True when this is the current certificate of a live account / an unrevoked device. */
  isCurrent(kind: 'account' | 'device', certificateId: string, m: EntityManager): Promise<boolean>;
  /** Points the account / device at its reissued certificate (same key), in the caller's transaction. */
  replace(kind: 'account' | 'device', previousId: string, next: IssuedCertificate, m: EntityManager): Promise<void>;
}

const CRL_REFRESH_MARGIN_MS = 60 * 60 * 1000;

export const caKeyPurpose = (keyId: string) => `ca-key:${keyId}`;

@Injectable()
export class CaService {
  private readonly logger = new Logger(CaService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(CertificateAuthority) private readonly cas: Repository<CertificateAuthority>,
    @InjectRepository(IssuedCertificate) private readonly certs: Repository<IssuedCertificate>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    private readonly settings: CaSettingsService,
  ) {}

  /** Creates or imports a CA without storing it: the caller stores it in its own transaction. */
  async prepare(input: CaInput): Promise<PreparedCa> {
    try {
      const ca =
        input.mode === 'generate'
          ? await createCertificateAuthority({
              commonName: input.commonName,
              organization: input.organization,
              algorithm: input.algorithm,
            })
          : await importCertificateAuthority({
              certificatePem: input.certificatePem,
              privateKeyPem: input.privateKeyPem,
            });
      const algorithm =
        'algorithm' in ca ? String(ca.algorithm) : input.mode === 'generate' ? input.algorithm : 'unknown';
      return { ...ca, keyId: keyId(ca.certificatePem), algorithm, imported: input.mode === 'import' };
    } catch (err) {
      if (err instanceof PkiError) {
        throw new AppError(
          ErrorCode.CA_INVALID,
          err.message,
          { reason: err.code, ...(err.details ?? {}) },
          { cause: err },
        );
      }
      throw err;
    }
  }

  async store(ca: PreparedCa, manager: EntityManager): Promise<CertificateAuthority> {
    await manager.update(CertificateAuthority, { active: true }, { active: false });
    return manager.save(
      manager.create(CertificateAuthority, {
        keyId: ca.keyId,
        subject: ca.subject,
        algorithm: ca.algorithm,
        certificatePem: ca.certificatePem,
        privateKeySealed: this.secrets.seal(ca.privateKeyPem, caKeyPurpose(ca.keyId)),
        notAfter: ca.notAfter,
        imported: ca.imported,
        active: true,
      }),
    );
  }

  active(): Promise<CertificateAuthority | null> {
    return this.cas.findOne({ where: { active: true } });
  }

  /**
   * What GET /api/ca serves: the active CA first; during a rotation's overlap also the previous CA and the
   * two cross certificates (each CA's key certified by the other).
   */
  async caBundlePem(): Promise<string> {
    const active = await this.requireActive();
    const previous = await this.previous();
    if (!previous) return active.certificatePem;
    const cross = await this.certs.find({
      where: {
        kind: 'ca',
        revokedAt: IsNull(),
        notAfter: MoreThan(new Date()),
        issuerKeyId: In([active.keyId, previous.keyId]),
        keyId: In([active.keyId, previous.keyId]),
      },
      order: { createdAt: 'ASC' },
    });
    return [active.certificatePem, previous.certificatePem, ...cross.map((c) => c.certificatePem)]
      .map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`))
      .join('');
  }

  /** Certificate lifetimes as owners set them (PUT /api/admin/ca/settings); issuance reads them here. */
  lifetimes(m?: EntityManager): Promise<CaSettingsValues> {
    return this.settings.get(m);
  }

  /** The CA replaced by the last rotation, while it is still served (not retired). */
  previous(m: EntityManager = this.dataSource.manager): Promise<CertificateAuthority | null> {
    return m.findOne(CertificateAuthority, {
      where: { active: false, retiredAt: IsNull(), overlapUntil: Not(IsNull()) },
      order: { createdAt: 'DESC' },
    });
  }

  private holders?: CertificateHolders;

  registerCertificateHolders(holders: CertificateHolders): void {
    this.holders = holders;
  }

  requireHolders(): CertificateHolders {
    if (!this.holders) throw new Error('no certificate holders registered (AccountsModule is not loaded)');
    return this.holders;
  }

  /** The newest certificate in the renewal chain of `cert` (itself when it was never renewed). */
  async latestOf(cert: IssuedCertificate): Promise<IssuedCertificate> {
    let current = cert;
    for (let hops = 0; current.supersededById && hops < 1000; hops++) {
      const next = await this.certs.findOne({ where: { id: current.supersededById } });
      if (!next) break;
      current = next;
    }
    return current;
  }

  async requireActive(): Promise<CertificateAuthority> {
    const ca = await this.active();
    if (!ca) throw new AppError(ErrorCode.SETUP_REQUIRED, 'The organization CA does not exist yet: finish setup first');
    return ca;
  }

  signerOf(ca: CertificateAuthority): SignerPem {
    return {
      certificatePem: ca.certificatePem,
      privateKeyPem: this.secrets.openText(ca.privateKeySealed, caKeyPurpose(ca.keyId)),
    };
  }

  crlUrl(issuerKeyId: string): string {
    return `${this.config.http.publicUrl}/api/crl/${issuerKeyId}`;
  }

  get ocspUrl(): string {
    return `${this.config.http.publicUrl}/api/ocsp`;
  }

  /** Records a certificate Enclave signed, so that CRLs and OCSP know it. */
  async recordIssued(
    manager: EntityManager,
    cert: CertificateInfo,
    issuerKeyId: string,
    kind: CertificateKind,
  ): Promise<IssuedCertificate> {
    const hashes = ocspKeyHashes(cert.certificatePem);
    return manager.save(
      manager.create(IssuedCertificate, {
        issuerKeyId,
        serialNumber: cert.serialNumber,
        kind,
        subject: cert.subject,
        keyId: keyId(cert.certificatePem),
        keyHashSha1: hashes.sha1,
        keyHashSha256: hashes.sha256,
        certificatePem: cert.certificatePem,
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
        revokedAt: null,
        revocationReason: null,
        supersededById: null,
        supersededAt: null,
      }),
    );
  }

  /** A certificate Enclave issued, by its row id. */
  issuedById(id: string, m?: EntityManager): Promise<IssuedCertificate | null> {
    return (m ? m.getRepository(IssuedCertificate) : this.certs).findOne({ where: { id } });
  }

  /** Certificates of one kind with any of these serial numbers (lower-case hex). */
  issuedBySerials(serialNumbers: string[], kind: CertificateKind): Promise<IssuedCertificate[]> {
    return this.certs.find({ where: { serialNumber: In(serialNumbers), kind } });
  }

  /**
   * What a key (SHA-1 key id) was certified as, other than a device: an account, a server or an org CA.
   * Null when the key is none of those.
   */
  async nonDeviceUseOfKey(keyIdHex: string, m?: EntityManager): Promise<'ca' | CertificateKind | null> {
    if (await (m ? m.getRepository(CertificateAuthority) : this.cas).exists({ where: { keyId: keyIdHex } }))
      return 'ca';
    const cert = await (m ? m.getRepository(IssuedCertificate) : this.certs)
      .createQueryBuilder('c')
      .where("c.key_id = :k AND c.kind <> 'device'", { k: keyIdHex })
      .getOne();
    return cert?.kind ?? null;
  }

  /** The org CA certificate (PEM) with this key id, active or not. */
  async caCertificatePem(keyIdHex: string): Promise<string | null> {
    return (await this.cas.findOne({ where: { keyId: keyIdHex } }))?.certificatePem ?? null;
  }

  /** Revokes several certificates of one issuer and re-signs its CRL once, in the caller's transaction. */
  async revokeMany(issuerKeyId: string, ids: string[], reason: RevocationReason, m: EntityManager): Promise<void> {
    if (ids.length === 0) return;
    await m.update(
      IssuedCertificate,
      { id: In(ids), issuerKeyId, revokedAt: IsNull() },
      { revokedAt: new Date(), revocationReason: reason },
    );
    await this.signCrl(issuerKeyId, m);
  }

  /**
   * The issuer with this key id. The org CA today; account issuers are resolved by the resolver the
   * accounts module registers.
   */
  async issuer(issuerKeyId: string): Promise<Issuer | null> {
    const ca = await this.cas.findOne({ where: { keyId: issuerKeyId } });
    if (ca) return { keyId: ca.keyId, signer: this.signerOf(ca) };
    for (const resolve of this.issuerResolvers) {
      const found = await resolve(issuerKeyId);
      if (found) return found;
    }
    return null;
  }

  private readonly issuerResolvers: ((keyId: string) => Promise<Issuer | null>)[] = [];

  registerIssuerResolver(resolve: (keyId: string) => Promise<Issuer | null>): void {
    this.issuerResolvers.push(resolve);
  }

  /** Marks a certificate revoked and re-signs its issuer's CRL, in one transaction. */
  async revoke(
    issuerKeyId: string,
    serialNumber: string,
    reason: RevocationReason = 'unspecified',
    manager?: EntityManager,
  ): Promise<void> {
    const run = async (m: EntityManager) => {
      const cert = await m.findOne(IssuedCertificate, {
        where: { issuerKeyId, serialNumber },
        lock: { mode: 'pessimistic_write' },
      });
      if (!cert) {
        throw new AppError(ErrorCode.CERTIFICATE_NOT_FOUND, `No certificate ${serialNumber} issued by ${issuerKeyId}`);
      }
      if (cert.revokedAt) return;
      const revokedAt = new Date();
      await m.update(IssuedCertificate, { id: cert.id }, { revokedAt, revocationReason: reason });
      // Certificates this one superseded (renewals, a CA rotation) carry the same key and are still valid:
      // they are revoked with it, in their own issuers' CRLs.
      const predecessors: { id: string; issuer_key_id: string }[] = await m.query(
        `WITH RECURSIVE chain AS (
           SELECT id FROM issued_certificates WHERE superseded_by_id = $1
           UNION ALL
           SELECT c.id FROM issued_certificates c JOIN chain ON c.superseded_by_id = chain.id
         )
         SELECT i.id, i.issuer_key_id FROM chain JOIN issued_certificates i ON i.id = chain.id
         WHERE i.revoked_at IS NULL AND i.not_after > now()`,
        [cert.id],
      );
      const issuers = new Set([issuerKeyId, ...predecessors.map((p) => p.issuer_key_id.trim())]);
      if (predecessors.length > 0) {
        await m.update(
          IssuedCertificate,
          { id: In(predecessors.map((p) => p.id)) },
          { revokedAt, revocationReason: reason },
        );
      }
      for (const issuer of issuers) await this.signCrl(issuer, m);
    };
    if (manager) await run(manager);
    else await this.dataSource.transaction(run);
  }

  /** The issuer's current CRL (DER), re-signed when missing or close to its nextUpdate. */
  async crl(issuerKeyId: string): Promise<Buffer> {
    if (!/^[0-9a-f]{40}$/.test(issuerKeyId)) {
      throw new AppError(ErrorCode.ISSUER_NOT_FOUND, 'Issuer id must be 40 lowercase hex characters');
    }
    const current = await this.dataSource.getRepository(Crl).findOne({ where: { issuerKeyId } });
    if (current && current.nextUpdate.getTime() - Date.now() > CRL_REFRESH_MARGIN_MS) return current.crlDer;
    return this.dataSource.transaction((m) => this.signCrl(issuerKeyId, m));
  }

  /**
   * Account CRLs (not the org CA's) signed at or after `since`, oldest first: what the server's DHT node
   * publishes at each account id.
   */
  async accountCrlsSince(since: Date): Promise<Pick<Crl, 'issuerKeyId' | 'crlNumber' | 'thisUpdate' | 'crlDer'>[]> {
    return this.dataSource
      .getRepository(Crl)
      .createQueryBuilder('c')
      .where('c.this_update >= :since', { since })
      .andWhere('c.issuer_key_id NOT IN (SELECT a.key_id FROM certificate_authorities a)')
      .orderBy('c.this_update', 'ASC')
      .getMany();
  }

  /** Re-signs every stored CRL that is close to its nextUpdate (maintenance job). */
  async refreshCrls(): Promise<number> {
    const due = await this.dataSource
      .getRepository(Crl)
      .createQueryBuilder('c')
      .where('c.next_update < :t', { t: new Date(Date.now() + CRL_REFRESH_MARGIN_MS * 2) })
      .getMany();
    for (const c of due) await this.dataSource.transaction((m) => this.signCrl(c.issuerKeyId, m));
    return due.length;
  }

  private async signCrl(issuerKeyId: string, m: EntityManager): Promise<Buffer> {
    const issuer = await this.issuer(issuerKeyId);
    if (!issuer) throw new AppError(ErrorCode.ISSUER_NOT_FOUND, `No issuer with key id ${issuerKeyId}`);
    // Serialize CRL numbering per issuer.
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crl:${issuerKeyId}`]);
    const previous = await m.findOne(Crl, { where: { issuerKeyId } });
    const crlNumber = previous ? BigInt(previous.crlNumber) + 1n : 1n;
    const revoked = await m
      .getRepository(IssuedCertificate)
      .createQueryBuilder('c')
      .where('c.issuer_key_id = :issuerKeyId AND c.revoked_at IS NOT NULL', { issuerKeyId })
      .orderBy('c.revoked_at', 'ASC')
      .getMany();
    const thisUpdate = new Date();
    const { crlHours } = await this.settings.get(m);
    const nextUpdate = new Date(thisUpdate.getTime() + crlHours * 3600_000);
    const { crlDer } = await createCrl({
      issuer: issuer.signer,
      crlNumber,
      thisUpdate,
      nextUpdate,
      entries: revoked.map((c) => ({
        serialNumber: c.serialNumber,
        revocationDate: c.revokedAt as Date,
        reason: (c.revocationReason ?? 'unspecified') as RevocationReason,
      })),
    });
    await m.upsert(Crl, { issuerKeyId, crlNumber: crlNumber.toString(), thisUpdate, nextUpdate, crlDer }, [
      'issuerKeyId',
    ]);
    this.logger.log({ issuer: issuerKeyId, crlNumber: crlNumber.toString(), revoked: revoked.length }, 'CRL signed');
    return crlDer;
  }

  /** Answers an OCSP request (DER) with a response signed directly by the certificate's issuer. */
  async ocsp(requestDer: Buffer): Promise<Buffer> {
    const issuers = new Map<string, Issuer | null>();
    return respondOcsp({
      requestDer,
      lookup: async (certId) => {
        const issuer = await this.issuerByOcspHash(certId.hashAlgorithm, certId.issuerKeyHash, issuers);
        // The CertID names its issuer by name hash AND key hash: a request whose name hash is not the
        // issuer's (same key, another name) is not about a certificate we issued → "unauthorized".
        if (!issuer || !this.nameHashMatches(issuer, certId.hashAlgorithm, certId.issuerNameHash)) return null;
        const cert = await this.certs.findOne({
          where: { issuerKeyId: issuer.keyId, serialNumber: certId.serialNumber },
        });
        if (!cert) return { responder: issuer.signer, status: 'unknown' };
        if (cert.revokedAt) {
          return {
            responder: issuer.signer,
            status: 'revoked',
            revokedAt: cert.revokedAt,
            reason: (cert.revocationReason ?? 'unspecified') as RevocationReason,
          };
        }
        return { responder: issuer.signer, status: 'good' };
      },
    });
  }

  private nameHashMatches(issuer: Issuer, algorithm: string, nameHash: string): boolean {
    if (algorithm !== 'sha1' && algorithm !== 'sha256') return false;
    return ocspNameHashes(issuer.signer.certificatePem)[algorithm] === nameHash.toLowerCase();
  }

  /** Finds an issuer by the OCSP issuerKeyHash: the org CA, or an account certificate Enclave issued. */
  private async issuerByOcspHash(
    algorithm: string,
    hash: string,
    cache: Map<string, Issuer | null>,
  ): Promise<Issuer | null> {
    const cacheKey = `${algorithm}:${hash}`;
    if (cache.has(cacheKey)) return cache.get(cacheKey) ?? null;
    const column = algorithm === 'sha1' ? 'keyHashSha1' : algorithm === 'sha256' ? 'keyHashSha256' : undefined;
    let found: Issuer | null = null;
    if (column) {
      for (const ca of await this.cas.find()) {
        const hashes = ocspKeyHashes(ca.certificatePem);
        if ((column === 'keyHashSha1' ? hashes.sha1 : hashes.sha256) === hash) {
          found = { keyId: ca.keyId, signer: this.signerOf(ca) };
          break;
        }
      }
      if (!found) {
        const account = await this.certs.findOne({ where: { kind: 'account', [column]: hash } });
        if (account) found = await this.issuer(account.keyId);
      }
    }
    cache.set(cacheKey, found);
    return found;
  }
}
