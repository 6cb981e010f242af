import { X509Certificate } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { CertificateInfo, isPkiError, reissueCertificate, SignerPem } from '@enclave/pki';
import { Brackets, DataSource, EntityManager, In, IsNull, Not, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditService } from '../audit/audit.service';
import {
  CaCertificateDto,
  CaOverviewResponseDto,
  CertificateListResponseDto,
  CertificateResponseDto,
  CertificateStatus,
  CrossCertificateDto,
  ListCertificatesQueryDto,
  RenewalReportDto,
  RenewedCertificateDto,
  RetirementResponseDto,
  RotateCaDto,
  RotationResponseDto,
} from './ca.dto';
import { CaSettingsService } from './ca-settings.service';
import { CaInput, CaService } from './ca.service';
import { CertificateAuthority } from './certificate-authority.entity';
import { IssuedCertificate } from './issued-certificate.entity';

const DAY_MS = 86_400_000;
const ROTATION_LOCK = 'ca-rotation';
const RENEWAL_BATCH = 200;
const ALREADY_REPLACED = 'already replaced';

type HeldKind = 'account' | 'device';

/** Owner operations on the organization CA: overview, certificate listing, renewal, rotation, retirement. */
@Injectable()
export class CaOperationsService {
  private readonly logger = new Logger(CaOperationsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(CertificateAuthority) private readonly cas: Repository<CertificateAuthority>,
    @InjectRepository(IssuedCertificate) private readonly certs: Repository<IssuedCertificate>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ca: CaService,
    private readonly settings: CaSettingsService,
    private readonly audit: AuditService,
  ) {}

  // ---- reads ----

  async overview(): Promise<CaOverviewResponseDto> {
    const active = await this.ca.requireActive();
    const previous = await this.ca.previous();
    const { renewBeforeDays } = await this.ca.lifetimes();
    const now = new Date();
    const current = () =>
      this.certs
        .createQueryBuilder('c')
        .where('c.revoked_at IS NULL AND c.superseded_by_id IS NULL AND c.not_after > :now', { now });
    const [accounts, devices, revoked, expiringSoon] = await Promise.all([
      current().andWhere("c.kind = 'account'").getCount(),
      current().andWhere("c.kind = 'device'").getCount(),
      this.certs.count({ where: { kind: In(['account', 'device']), revokedAt: Not(IsNull()) } }),
      current()
        .andWhere("c.kind IN ('account', 'device') AND c.not_after <= :soon", {
          soon: new Date(now.getTime() + renewBeforeDays * DAY_MS),
        })
        .getCount(),
    ]);
    const cross = previous
      ? await this.certs.find({
          where: {
            kind: 'ca',
            revokedAt: IsNull(),
            issuerKeyId: In([active.keyId, previous.keyId]),
            keyId: In([active.keyId, previous.keyId]),
          },
          order: { createdAt: 'ASC' },
        })
      : [];
    return {
      active: caDto(active),
      previous: previous ? caDto(previous) : null,
      crossCertificates: cross.map((c): CrossCertificateDto => ({
        subjectKeyId: c.keyId,
        issuerKeyId: c.issuerKeyId,
        serialNumber: c.serialNumber,
        notAfter: c.notAfter.toISOString(),
        certificatePem: c.certificatePem,
      })),
      counts: {
        accountCertificates: accounts,
        deviceCertificates: devices,
        revoked,
        expiringSoon,
        expiringWithinDays: renewBeforeDays,
      },
    };
  }

  /** Keyset pagination ordered by (notAfter, id): the soonest-expiring first. */
  async listCertificates(query: ListCertificatesQueryDto): Promise<CertificateListResponseDto> {
    const limit = query.limit ?? 50;
    const now = new Date();
    const qb = this.certs.createQueryBuilder('c');
    qb.where(query.type ? 'c.kind = :type' : "c.kind IN ('account', 'device', 'server')", { type: query.type });
    if (query.expiringWithinDays !== undefined) {
      qb.andWhere('c.not_after > :now AND c.not_after <= :until', {
        now,
        until: new Date(now.getTime() + query.expiringWithinDays * DAY_MS),
      });
    }
    switch (query.status) {
      case 'revoked':
        qb.andWhere('c.revoked_at IS NOT NULL');
        break;
      case 'superseded':
        qb.andWhere('c.revoked_at IS NULL AND c.superseded_by_id IS NOT NULL');
        break;
      case 'expired':
        qb.andWhere('c.revoked_at IS NULL AND c.superseded_by_id IS NULL AND c.not_after <= :now', { now });
        break;
      case 'valid':
        qb.andWhere('c.revoked_at IS NULL AND c.superseded_by_id IS NULL AND c.not_after > :now', { now });
        break;
    }
    if (query.cursor !== undefined) {
      const after = decodeCursor(query.cursor);
      qb.andWhere(
        new Brackets((w) =>
          w
            .where('c.not_after > :cursorTime', { cursorTime: after.notAfter })
            .orWhere('c.not_after = :cursorTime AND c.id > :cursorId', { cursorId: after.id }),
        ),
      );
    }
    const rows = await qb
      .orderBy('c.not_after', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((c) => certificateDto(c, now)),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  // ---- renewal ----

  /**
   * Reissues account and device certificates expiring within `withinDays` (default renewBeforeDays) with
   * the same keys; the old certificate is superseded, not revoked. Accounts first, so devices renewed in
   * the same run chain through a renewed account certificate. Re-running renews nothing new.
   */
  async renewExpiring(withinDays: number | undefined, actor: string): Promise<RenewalReportDto> {
    const settings = await this.ca.lifetimes();
    const window = withinDays ?? settings.renewBeforeDays;
    const report: RenewalReportDto = { withinDays: window, accounts: 0, devices: 0, renewed: [], skipped: [] };
    // Skipped certificates stay due; they are excluded from the next batches of this run.
    const skipped = new Set<string>();
    for (const kind of ['account', 'device'] as const) {
      for (;;) {
        const now = new Date();
        const qb = this.certs
          .createQueryBuilder('c')
          .where('c.kind = :kind AND c.revoked_at IS NULL AND c.superseded_by_id IS NULL', { kind })
          .andWhere('c.not_after > :now AND c.not_after <= :until', {
            now,
            until: new Date(now.getTime() + window * DAY_MS),
          });
        if (skipped.size > 0) qb.andWhere('c.id NOT IN (:...skipped)', { skipped: [...skipped] });
        const batch = await qb.orderBy('c.not_after', 'ASC').addOrderBy('c.id', 'ASC').take(RENEWAL_BATCH).getMany();
        if (batch.length === 0) break;
        for (const cert of batch) {
          const outcome = await this.renewOne(cert, kind, window, actor);
          if ('reason' in outcome) {
            skipped.add(cert.id);
            if (outcome.reason !== ALREADY_REPLACED) report.skipped.push(outcome);
          } else {
            report.renewed.push(outcome);
            report[kind === 'account' ? 'accounts' : 'devices']++;
          }
        }
      }
    }
    if (report.renewed.length > 0 || report.skipped.length > 0) {
      this.logger.log(
        { accounts: report.accounts, devices: report.devices, skipped: report.skipped.length, withinDays: window },
        'certificate renewal run',
      );
    }
    return report;
  }

  private async renewOne(
    candidate: IssuedCertificate,
    kind: HeldKind,
    windowDays: number,
    actor: string,
  ): Promise<RenewedCertificateDto | { id: string; reason: string }> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const cert = await m.findOne(IssuedCertificate, {
          where: { id: candidate.id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!cert || cert.revokedAt || cert.supersededById) return { id: candidate.id, reason: ALREADY_REPLACED };
        if (!(await this.ca.requireHolders().isCurrent(kind, cert.id, m))) {
          return { id: cert.id, reason: `no live ${kind} holds this certificate` };
        }
        const settings = await this.ca.lifetimes(m);
        let issuerKeyId: string;
        let signer: SignerPem;
        if (kind === 'account') {
          const active = await this.ca.requireActive();
          issuerKeyId = active.keyId;
          signer = this.ca.signerOf(active);
        } else {
          const issuer = await this.ca.issuer(cert.issuerKeyId);
          if (!issuer) return { id: cert.id, reason: `issuer ${cert.issuerKeyId} not found` };
          issuerKeyId = issuer.keyId;
          signer = issuer.signer;
        }
        const days = kind === 'account' ? settings.accountCertDays : settings.deviceCertDays;
        const reachable = Math.min(Date.now() + days * DAY_MS, notAfterOf(signer.certificatePem).getTime());
        if (reachable <= cert.notAfter.getTime()) {
          return {
            id: cert.id,
            reason: `the issuer (${issuerKeyId}) expires before a renewed certificate would outlast this one; renew or rotate the issuer first`,
          };
        }
        if (reachable <= Date.now() + windowDays * DAY_MS) {
          // Renewing would produce a certificate due again at once: re-runs must not churn.
          return {
            id: cert.id,
            reason: `a renewed certificate would itself expire within ${windowDays} days (lifetime ${days} days${reachable < Date.now() + days * DAY_MS ? ', limited by its issuer' : ''})`,
          };
        }
        const next = await this.reissue(m, cert, kind, issuerKeyId, signer, days, actor, 'certificate.renewed');
        return {
          type: kind,
          previousId: cert.id,
          id: next.id,
          subject: next.subject,
          notAfter: next.notAfter.toISOString(),
        };
      });
    } catch (err) {
      if (isPkiError(err)) {
        this.logger.warn({ err, certificateId: candidate.id }, 'certificate renewal refused');
        return { id: candidate.id, reason: err.message };
      }
      throw err;
    }
  }

  /** Signs a same-key successor of `cert`, records it, supersedes `cert` and repoints its holder; audited. */
  private async reissue(
    m: EntityManager,
    cert: IssuedCertificate,
    kind: HeldKind,
    issuerKeyId: string,
    signer: SignerPem,
    validityDays: number,
    actor: string,
    action: string,
  ): Promise<IssuedCertificate> {
    const issuerChanged = issuerKeyId !== cert.issuerKeyId;
    const info: CertificateInfo = await reissueCertificate({
      certificatePem: cert.certificatePem,
      issuer: signer,
      validityDays,
      ...(issuerChanged ? { crlUrl: this.ca.crlUrl(issuerKeyId) } : {}),
    });
    const next = await this.ca.recordIssued(m, info, issuerKeyId, kind);
    const supersededAt = new Date();
    await m.update(IssuedCertificate, { id: cert.id }, { supersededById: next.id, supersededAt });
    await this.ca.requireHolders().replace(kind, cert.id, next, m);
    await this.audit.record(
      {
        actor,
        action,
        target: cert.subject,
        details: { type: kind, keyId: cert.keyId },
        before: {
          id: cert.id,
          issuerKeyId: cert.issuerKeyId,
          serialNumber: cert.serialNumber,
          notAfter: cert.notAfter,
        },
        after: { id: next.id, issuerKeyId, serialNumber: next.serialNumber, notAfter: next.notAfter },
      },
      m,
    );
    return next;
  }

  // ---- rotation ----

  /**
   * Creates or imports a new CA, cross-signs it with the current one (both directions, valid until the end
   * of the overlap), makes it the issuer of new certificates and reissues every live account certificate
   * under it. Device certificates are untouched: they chain through their account certificate, whose key
   * and subject do not change.
   */
  async rotate(dto: RotateCaDto, actor: string): Promise<RotationResponseDto> {
    const current = await this.ca.requireActive();
    if (await this.ca.previous()) {
      throw new AppError(
        ErrorCode.CA_ROTATION_IN_PROGRESS,
        'A previous CA is still being served: retire it (POST /api/admin/ca/retire-previous) before rotating again',
      );
    }
    const now = new Date();
    const overlapUntil = new Date(now.getTime() + dto.overlapDays * DAY_MS);
    const prepared = await this.ca.prepare(await this.rotationInput(dto, current));
    const keyField = dto.mode === 'import' ? 'privateKeyPem' : 'algorithm';
    if (await this.cas.exist({ where: { keyId: prepared.keyId } })) {
      throw rotationInvalid(
        keyField,
        'the new CA key is the key of a current or earlier CA; a rotation needs a new key',
      );
    }
    if (prepared.subject === current.subject) {
      throw rotationInvalid(
        dto.mode === 'import' ? 'certificatePem' : 'commonName',
        `the new CA's subject must differ from the current CA's (${current.subject})`,
      );
    }
    if (prepared.notAfter.getTime() <= overlapUntil.getTime()) {
      throw rotationInvalid(
        'overlapDays',
        `the new CA expires (${prepared.notAfter.toISOString()}) before the overlap ends (${overlapUntil.toISOString()})`,
      );
    }
    const oldSigner = this.ca.signerOf(current);
    const [newByOld, oldByNew] = await Promise.all([
      reissueCertificate({ certificatePem: prepared.certificatePem, issuer: oldSigner, notAfter: overlapUntil, now }),
      reissueCertificate({ certificatePem: current.certificatePem, issuer: prepared, notAfter: overlapUntil, now }),
    ]);

    const reissued = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ROTATION_LOCK]);
      const stillActive = await m.findOne(CertificateAuthority, { where: { active: true } });
      if (stillActive?.id !== current.id || (await this.ca.previous(m))) {
        throw new AppError(ErrorCode.CA_ROTATION_IN_PROGRESS, 'Another rotation changed the CA meanwhile; try again');
      }
      const stored = await this.ca.store(prepared, m);
      await m.update(CertificateAuthority, { id: current.id }, { overlapUntil });
      const clamped = await this.settings.clampToCa(stored.notAfter, m);
      await this.ca.recordIssued(m, newByOld, current.keyId, 'ca');
      await this.ca.recordIssued(m, oldByNew, stored.keyId, 'ca');
      const count = await this.moveAccounts(m, current.keyId, stored, actor);
      await this.audit.record(
        {
          actor,
          action: 'ca.rotated',
          target: 'ca',
          details: { mode: dto.mode, overlapDays: dto.overlapDays, reissuedAccounts: count },
          before: { active: caSummary(current), previous: null, ...(clamped ? { settings: clamped.before } : {}) },
          after: {
            active: caSummary(stored),
            previous: { ...caSummary(current), overlapUntil },
            ...(clamped ? { settings: clamped.after } : {}),
          },
        },
        m,
      );
      return count;
    });
    this.logger.log({ previous: current.keyId, active: prepared.keyId, overlapUntil, reissued }, 'CA rotated');
    return { ca: await this.overview(), reissuedAccounts: reissued };
  }

  private async rotationInput(dto: RotateCaDto, current: CertificateAuthority): Promise<CaInput> {
    if (dto.mode === 'import') {
      if (!dto.certificatePem) throw rotationInvalid('certificatePem', 'certificatePem is required to import a CA');
      if (!dto.privateKeyPem) throw rotationInvalid('privateKeyPem', 'privateKeyPem is required to import a CA');
      return { mode: 'import', certificatePem: dto.certificatePem, privateKeyPem: dto.privateKeyPem };
    }
    return {
      mode: 'generate',
      commonName: dto.commonName ?? (await this.defaultCommonName(current)),
      organization: current.subject.match(/O=([^,]+)/)?.[1]?.trim(),
      algorithm: dto.algorithm ?? this.config.pki.caAlgorithm,
    };
  }

  /** The current CA's common name with the date, e.g. "Example Corp CA (2026-12-07)", unused by any CA so far. */
  private async defaultCommonName(current: CertificateAuthority): Promise<string> {
    const cnOf = (subject: string) => subject.match(/CN=([^,]+)/)?.[1]?.trim();
    const used = new Set((await this.cas.find()).map((ca) => cnOf(ca.subject)));
    const base = (cnOf(current.subject) ?? 'Enclave CA').replace(/ \(\d{4}-\d{2}-\d{2}( #\d+)?\)$/, '').slice(0, 45);
    const date = new Date().toISOString().slice(0, 10);
    let name = `${base} (${date})`;
    for (let n = 2; used.has(name); n++) name = `${base} (${date} #${n})`;
    return name;
  }

  /** Reissues every live account certificate still issued by `fromKeyId` under `to`. */
  private async moveAccounts(
    m: EntityManager,
    fromKeyId: string,
    to: CertificateAuthority,
    actor: string,
  ): Promise<number> {
    const { accountCertDays } = await this.ca.lifetimes(m);
    const signer = this.ca.signerOf(to);
    const now = new Date();
    const accounts = await m.find(IssuedCertificate, {
      where: { kind: 'account', issuerKeyId: fromKeyId, revokedAt: IsNull(), supersededById: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
    let moved = 0;
    for (const cert of accounts) {
      if (cert.notAfter <= now) continue;
      if (!(await this.ca.requireHolders().isCurrent('account', cert.id, m))) continue;
      await this.reissue(m, cert, 'account', to.keyId, signer, accountCertDays, actor, 'certificate.moved_to_new_ca');
      moved++;
    }
    return moved;
  }

  /**
   * Stops serving the previous CA: remaining accounts under it are moved first, then the cross certificates
   * and its superseded account certificates are revoked (reason superseded) and it is marked retired.
   * Its CRL and OCSP answers stay available for what it issued.
   */
  async retirePrevious(actor: string): Promise<RetirementResponseDto> {
    const result = await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [ROTATION_LOCK]);
      const previous = await this.ca.previous(m);
      if (!previous) throw new AppError(ErrorCode.CA_NO_PREVIOUS, 'There is no previous CA to retire');
      const active = await m.findOneOrFail(CertificateAuthority, { where: { active: true } });
      const reissuedAccounts = await this.moveAccounts(m, previous.keyId, active, actor);
      let revoked = 0;
      for (const issuerKeyId of [previous.keyId, active.keyId]) {
        const cross = await m.find(IssuedCertificate, {
          where: { kind: 'ca', issuerKeyId, keyId: In([previous.keyId, active.keyId]), revokedAt: IsNull() },
        });
        const superseded =
          issuerKeyId === previous.keyId
            ? await m
                .getRepository(IssuedCertificate)
                .createQueryBuilder('c')
                .where("c.kind = 'account' AND c.issuer_key_id = :k", { k: issuerKeyId })
                .andWhere('c.revoked_at IS NULL AND c.superseded_by_id IS NOT NULL AND c.not_after > now()')
                .getMany()
            : [];
        const ids = [...cross, ...superseded].map((c) => c.id);
        await this.ca.revokeMany(issuerKeyId, ids, 'superseded', m);
        revoked += ids.length;
      }
      const retiredAt = new Date();
      await m.update(CertificateAuthority, { id: previous.id }, { retiredAt });
      await this.audit.record(
        {
          actor,
          action: 'ca.previous_retired',
          target: 'ca',
          details: { keyId: previous.keyId, revoked, reissuedAccounts },
          before: { previous: { ...caSummary(previous), overlapUntil: previous.overlapUntil, retiredAt: null } },
          after: { previous: null, retired: { ...caSummary(previous), retiredAt } },
        },
        m,
      );
      return { retired: caDto({ ...previous, retiredAt }), revoked, reissuedAccounts };
    });
    this.logger.log({ keyId: result.retired.keyId, revoked: result.revoked }, 'previous CA retired');
    return result;
  }

  /** Scheduled: retires the previous CA once its overlap has ended. */
  async retireIfOverlapEnded(actor: string): Promise<RetirementResponseDto | null> {
    const previous = await this.ca.previous();
    if (!previous?.overlapUntil || previous.overlapUntil.getTime() > Date.now()) return null;
    try {
      return await this.retirePrevious(actor);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.CA_NO_PREVIOUS) return null;
      throw err;
    }
  }
}

function rotationInvalid(field: string, message: string): AppError {
  return new AppError(ErrorCode.CA_ROTATION_INVALID, `${field}: ${message}`, { field });
}

function notAfterOf(pem: string): Date {
  return new Date(new X509Certificate(pem).validTo);
}

function caSummary(ca: CertificateAuthority): Record<string, unknown> {
  return { keyId: ca.keyId, subject: ca.subject, notAfter: ca.notAfter };
}

export function caDto(ca: CertificateAuthority): CaCertificateDto {
  const x = new X509Certificate(ca.certificatePem);
  const details = x.publicKey.asymmetricKeyDetails ?? {};
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
  const keySize = details.modulusLength ?? (details.namedCurve ? (curveBits[details.namedCurve] ?? 0) : 0);
  return {
    status: ca.active ? 'active' : ca.retiredAt ? 'retired' : 'previous',
    keyId: ca.keyId,
    subject: ca.subject,
    keyAlgorithm: ca.algorithm,
    keySize,
    sha1Fingerprint: x.fingerprint,
    sha256Fingerprint: x.fingerprint256,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    imported: ca.imported,
    overlapUntil: ca.overlapUntil?.toISOString() ?? null,
    retiredAt: ca.retiredAt?.toISOString() ?? null,
    certificatePem: ca.certificatePem,
  };
}

function certificateStatus(c: IssuedCertificate, now: Date): CertificateStatus {
  if (c.revokedAt) return 'revoked';
  if (c.supersededById) return 'superseded';
  return c.notAfter <= now ? 'expired' : 'valid';
}

function certificateDto(c: IssuedCertificate, now: Date): CertificateResponseDto {
  return {
    id: c.id,
    type: c.kind,
    serialNumber: c.serialNumber,
    subject: c.subject,
    issuerKeyId: c.issuerKeyId,
    keyId: c.keyId,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    status: certificateStatus(c, now),
    revokedAt: c.revokedAt?.toISOString() ?? null,
    revocationReason: c.revocationReason,
    supersededById: c.supersededById,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function encodeCursor(c: IssuedCertificate): string {
  return Buffer.from(`${c.notAfter.toISOString()}|${c.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { notAfter: Date; id: string } {
  const [time, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const notAfter = new Date(time ?? '');
  if (extra !== undefined || !id || !UUID.test(id) || Number.isNaN(notAfter.getTime())) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor: not a cursor this API returned', {
      field: 'cursor',
      problems: ['cursor must be the nextCursor of a previous page'],
    });
  }
  return { notAfter, id };
}
