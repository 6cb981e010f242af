import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { generateKeyPair, issueAccountCertificate, KeyPairPem, keyId, SignerPem } from '@enclave/pki';
import { DataSource, EntityManager, IsNull, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import { AuditService } from '../audit/audit.service';
import { AccessToken } from '../auth/access-token.entity';
import { PooledAccountKey } from '../ca/account-key.entity';
import { CaService } from '../ca/ca.service';
import { CertificateAuthority } from '../ca/certificate-authority.entity';
import { IssuedCertificate } from '../ca/issued-certificate.entity';
import { poolKeyPurpose } from '../ca/key-pool.service';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { Device } from '../users/device.entity';
import { User } from '../users/user.entity';
import { Account } from './account.entity';

/** Sealed with the same purpose as pooled keys (`account-key:<key id>`): a pooled key moves over unchanged. */
const accountKeyPurpose = poolKeyPurpose;

export interface LiveAccount {
  account: Account;
  signer: SignerPem;
  created: boolean;
}

@Injectable()
export class AccountsService implements OnModuleInit {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    @InjectRepository(Account) private readonly accounts: Repository<Account>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly ca: CaService,
    private readonly secrets: SecretBox,
    private readonly queues: QueueService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    // Accounts are issuers too: their CRLs and OCSP answers are signed with the account key.
    this.ca.registerIssuerResolver(async (issuerKeyId) => {
      const account = await this.accounts.findOne({ where: { jamiId: issuerKeyId } });
      return account ? { keyId: account.jamiId, signer: this.signerOf(account) } : null;
    });
    // Certificate renewal and CA rotation replace account / device certificates through this port.
    this.ca.registerCertificateHolders({
      isCurrent: async (kind, certificateId, m) =>
        (await m.count(kind === 'account' ? Account : Device, { where: { certificateId, revokedAt: IsNull() } })) > 0,
      replace: async (kind, previousId, next, m) => {
        if (kind === 'account') {
          await m.update(
            Account,
            { certificateId: previousId },
            { certificateId: next.id, certificatePem: next.certificatePem },
          );
        } else {
          await m.update(Device, { certificateId: previousId }, { certificateId: next.id });
        }
      },
    });
  }

  signerOf(account: Account): SignerPem {
    return {
      certificatePem: account.certificatePem,
      privateKeyPem: this.secrets.openText(account.privateKeySealed, accountKeyPurpose(account.jamiId)),
    };
  }

  live(userId: string, m: EntityManager = this.dataSource.manager): Promise<Account | null> {
    return m.findOne(Account, { where: { userId, revokedAt: IsNull() } });
  }

  /**
   * The user's live account, created on first use inside the caller's transaction: an advisory lock per
   * user makes concurrent first enrollments create exactly one account key. The key comes from the
   * pre-generated pool when possible (one signature instead of a key generation).
   */
  async getOrCreate(user: User, ca: CertificateAuthority, m: EntityManager): Promise<LiveAccount> {
    await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`account:${user.id}`]);
    const existing = await this.live(user.id, m);
    if (existing) return { account: existing, signer: this.signerOf(existing), created: false };

    const { key, sealed } = await this.takeKey(m);
    const jamiId = keyId(key.publicKeyPem);
    const cert = await issueAccountCertificate({
      ca: this.ca.signerOf(ca),
      username: user.username,
      organization: ca.subject.match(/O=([^,]+)/)?.[1],
      accountKey: key,
      validityDays: (await this.ca.lifetimes(m)).accountCertDays,
      crlUrl: this.ca.crlUrl(ca.keyId),
      ocspUrl: this.ca.ocspUrl,
    });
    const issued = await this.ca.recordIssued(m, cert, ca.keyId, 'account');
    const account = await m.save(
      m.create(Account, {
        userId: user.id,
        jamiId,
        certificateId: issued.id,
        certificatePem: cert.certificatePem,
        publicKeyPem: key.publicKeyPem,
        privateKeySealed: sealed,
        revokedAt: null,
      }),
    );
    await m.update(User, { id: user.id }, { jamiId });
    await this.audit.record(
      { actor: `user:${user.username}`, action: 'account.created', target: user.username, details: { jamiId } },
      m,
    );
    return {
      account,
      signer: { certificatePem: cert.certificatePem, privateKeyPem: key.privateKeyPem },
      created: true,
    };
  }

  /** Takes a pooled key (rolled back with the caller's transaction on failure), else generates one. */
  private async takeKey(m: EntityManager): Promise<{ key: KeyPairPem; sealed: string }> {
    const pooled = await m
      .getRepository(PooledAccountKey)
      .createQueryBuilder('k')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .orderBy('k.created_at', 'ASC')
      .limit(1)
      .getOne();
    if (pooled) {
      await m.delete(PooledAccountKey, { id: pooled.id });
      const privateKeyPem = this.secrets.openText(pooled.privateKeySealed, poolKeyPurpose(pooled.keyId));
      return { key: { publicKeyPem: pooled.publicKeyPem, privateKeyPem }, sealed: pooled.privateKeySealed };
    }
    this.logger.warn('account key pool is empty: generating an RSA-4096 key on the request path');
    const key = await generateKeyPair('RSA-4096');
    return { key, sealed: this.secrets.seal(key.privateKeyPem, accountKeyPurpose(keyId(key.publicKeyPem))) };
  }

  /** Asks the workers to top the key pool up again (after keys were consumed). */
  async requestPoolRefill(): Promise<void> {
    try {
      await this.queues.queue(QueueName.KeyPool).add('fill', {});
    } catch (err) {
      this.logger.warn({ err }, 'could not enqueue a key-pool refill');
    }
  }

  /** Revokes one device: certificate into the account's CRL, OCSP says revoked, its tokens are gone. */
  async revokeDevice(user: User, deviceId: string, actor: string): Promise<Device> {
    return this.dataSource.transaction(async (m) => {
      const device = await m.findOne(Device, {
        where: { userId: user.id, deviceId: deviceId.toLowerCase() },
        lock: { mode: 'pessimistic_write' },
      });
      if (!device)
        throw new AppError(
          ErrorCode.DEVICE_NOT_FOUND,
          `User "${user.username}" has no device ${deviceId.slice(0, 64)}`,
        );
      if (device.revokedAt) return device;
      await this.revokeDeviceRow(m, device, 'cessationOfOperation');
      await this.audit.record(
        { actor, action: 'device.revoked', target: user.username, details: { deviceId: device.deviceId } },
        m,
      );
      return (await m.findOneOrFail(Device, { where: { id: device.id } })) as Device;
    });
  }

  /** Revokes the account certificate and every device, suspends the user and ends their tokens. */
  async revokeAccount(
    user: User,
    actor: string,
    opts: { reason?: 'admin' | 'directory'; action?: string; details?: Record<string, unknown> } = {},
  ): Promise<{ devices: number; jamiId: string | null }> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`account:${user.id}`]);
      const devices = await m.find(Device, { where: { userId: user.id, revokedAt: IsNull() } });
      for (const d of devices) await this.revokeDeviceRow(m, d, 'cessationOfOperation');
      const account = await this.live(user.id, m);
      if (account) {
        const cert = await m.findOneOrFail(IssuedCertificate, { where: { id: account.certificateId } });
        await this.ca.revoke(cert.issuerKeyId, cert.serialNumber, 'cessationOfOperation', m);
        await m.update(Account, { id: account.id }, { revokedAt: new Date() });
      }
      await m.update(User, { id: user.id }, { status: 'suspended', suspendedReason: opts.reason ?? 'admin' });
      await m.delete(AccessToken, { subjectId: user.id });
      await this.audit.record(
        {
          actor,
          action: opts.action ?? 'account.revoked',
          target: user.username,
          details: { jamiId: account?.jamiId ?? null, devices: devices.length, ...(opts.details ?? {}) },
        },
        m,
      );
      return { devices: devices.length, jamiId: account?.jamiId ?? null };
    });
  }

  private async revokeDeviceRow(m: EntityManager, device: Device, reason: 'cessationOfOperation' | 'superseded') {
    const cert = await m.findOne(IssuedCertificate, { where: { id: device.certificateId } });
    if (cert) await this.ca.revoke(cert.issuerKeyId, cert.serialNumber, reason, m);
    await m.update(Device, { id: device.id }, { revokedAt: new Date() });
    await m.delete(AccessToken, { deviceId: device.deviceId });
  }
}
