import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { generateKeyPair, issueAccountCertificate, KeyPairPem, keyId, SignerPem } from '@enclave/pki';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { SecretBox } from '../../common/secret-box';
import { lockForTransaction } from '../../database/advisory-lock';
import { TransactionRunner } from '../../database/transaction-runner';
import { AuditService } from '../audit/audit.service';
import { TokenService } from '../auth/token.service';
import { CaService } from '../ca/ca.service';
import { CertificateAuthority } from '../ca/certificate-authority.entity';
import { KeyPoolService, poolKeyPurpose } from '../ca/key-pool.service';
import { QueueName } from '../queue/queue-names';
import { QueueService } from '../queue/queue.service';
import { Device } from '../users/device.entity';
import { DevicesRepository } from '../users/devices.repository';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { userSnapshot, UsersService } from '../users/users.service';
import { Account } from './account.entity';

/** Sealed with the same purpose as pooled keys (`account-key:<key id>`): a pooled key moves over unchanged. */
const accountKeyPurpose = poolKeyPurpose;

/** Serializes account creation and revocation per user. */
export const accountLockName = (userId: string) => `account:${userId}`;

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
    private readonly tx: TransactionRunner,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly usersService: UsersService,
    private readonly ca: CaService,
    private readonly keyPool: KeyPoolService,
    private readonly tokens: TokenService,
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

  private repo(m?: EntityManager): Repository<Account> {
    return m ? m.getRepository(Account) : this.accounts;
  }

  live(userId: string, m?: EntityManager): Promise<Account | null> {
    return this.repo(m).findOne({ where: { userId, revokedAt: IsNull() } });
  }

  /** The account (live or revoked) whose key id is this Jami ID. */
  byJamiId(jamiId: string): Promise<Account | null> {
    return this.accounts.findOne({ where: { jamiId } });
  }

  /**
   * The user's live account, created on first use inside the caller's transaction: an advisory lock per
   * user makes concurrent first enrollments create exactly one account key. The key comes from the
   * pre-generated pool when possible (one signature instead of a key generation).
   */
  async getOrCreate(user: User, ca: CertificateAuthority, m: EntityManager): Promise<LiveAccount> {
    await lockForTransaction(m, accountLockName(user.id));
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
    const repo = this.repo(m);
    const account = await repo.save(
      repo.create({
        userId: user.id,
        jamiId,
        certificateId: issued.id,
        certificatePem: cert.certificatePem,
        publicKeyPem: key.publicKeyPem,
        privateKeySealed: sealed,
        revokedAt: null,
      }),
    );
    await this.users.update(user.id, { jamiId }, m);
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
    const pooled = await this.keyPool.take(m);
    if (pooled) {
      const privateKeyPem = this.secrets.openText(pooled.privateKeySealed, poolKeyPurpose(pooled.keyId));
      return { key: { publicKeyPem: pooled.publicKeyPem, privateKeyPem }, sealed: pooled.privateKeySealed };
    }
    this.logger.warn('account key pool is empty: generating an RSA-4096 key on the request path');
    const key = await generateKeyPair('RSA-4096');
    return { key, sealed: this.secrets.seal(key.privateKeyPem, accountKeyPurpose(keyId(key.publicKeyPem))) };
  }

  /**
   * Asks the workers to top the key pool up again (after keys were consumed). Never waits for the queue: with
   * Redis down the request is buffered by its client and sent when Redis returns, and the caller (an
   * enrollment) is not held up meanwhile.
   */
  requestPoolRefill(): Promise<void> {
    this.queues
      .queue(QueueName.KeyPool)
      .add('fill', {})
      .catch((err: unknown) => this.logger.warn({ err }, 'could not enqueue a key-pool refill'));
    return Promise.resolve();
  }

  /** Revokes one device: certificate into the account's CRL, OCSP says revoked, its tokens are gone. */
  async revokeDevice(user: User, deviceId: string, actor: string): Promise<Device> {
    return this.tx.run(async (m) => {
      const id = deviceId.toLowerCase();
      const device = /^[0-9a-f]{64}$/.test(id) ? await this.devices.ofUser(user.id, id, m, true) : null;
      if (!device)
        throw new AppError(
          ErrorCode.DEVICE_NOT_FOUND,
          `User "${user.username}" has no device ${deviceId.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}`,
        );
      if (device.revokedAt) return device;
      await this.revokeDeviceRow(m, device, 'cessationOfOperation');
      await this.audit.record(
        {
          actor,
          action: 'device.revoked',
          target: user.username,
          details: { deviceId: device.deviceId },
          before: { revoked: false },
          after: { revoked: true },
        },
        m,
      );
      return (await this.devices.byId(device.id, m)) as Device;
    });
  }

  /** Revokes the account certificate and every device, suspends the user and ends their tokens. */
  async revokeAccount(
    user: User,
    actor: string,
    opts: { reason?: 'admin' | 'directory'; action?: string; details?: Record<string, unknown> } = {},
  ): Promise<{ devices: number; jamiId: string | null }> {
    return this.tx.run(async (m) => {
      const revoked = await this.revokeEverything(m, user);
      await this.users.update(user.id, { status: 'suspended', suspendedReason: opts.reason ?? 'admin' }, m);
      await this.audit.record(
        {
          actor,
          action: opts.action ?? 'account.revoked',
          target: user.username,
          details: { jamiId: revoked.jamiId, devices: revoked.devices, ...(opts.details ?? {}) },
          before: { status: user.status },
          after: { status: 'suspended', accountRevoked: true },
        },
        m,
      );
      return revoked;
    });
  }

  /**
   * Deletes a user: the account certificate and every device are revoked, their tokens end, and the user
   * becomes a tombstone that keeps the username and Jami ID reserved (UsersService.tombstone).
   */
  async deleteUser(rawUsername: string, actor: string): Promise<{ devices: number; jamiId: string | null }> {
    return this.tx.run(async (m) => {
      const user = await this.usersService.entity(rawUsername, m);
      const revoked = await this.revokeEverything(m, user);
      const after = await this.usersService.tombstone(user, m);
      await this.audit.record(
        {
          actor,
          action: 'user.deleted',
          target: user.username,
          details: { jamiId: revoked.jamiId, devicesRevoked: revoked.devices },
          before: userSnapshot(user),
          after: userSnapshot(after),
        },
        m,
      );
      return revoked;
    });
  }

  /**
   * Revokes devices by device ID across the organization, one transaction each (one result per device:
   * revoked, already revoked or not found), each revocation audited with the admin's reason.
   */
  async revokeDevices(
    deviceIds: string[],
    reason: string,
    actor: string,
  ): Promise<{ deviceId: string; result: 'revoked' | 'already_revoked' | 'not_found' }[]> {
    const results: { deviceId: string; result: 'revoked' | 'already_revoked' | 'not_found' }[] = [];
    for (const deviceId of [...new Set(deviceIds.map((d) => d.toLowerCase()))]) {
      const result = await this.tx.run(async (m) => {
        const device = await this.devices.byDeviceId(deviceId, m, true);
        if (!device) return 'not_found' as const;
        if (device.revokedAt) return 'already_revoked' as const;
        const owner = await this.users.byId(device.userId, m);
        await this.revokeDeviceRow(m, device, 'cessationOfOperation');
        await this.audit.record(
          {
            actor,
            action: 'device.revoked',
            target: owner?.username,
            details: { deviceId, reason },
            before: { revoked: false },
            after: { revoked: true },
          },
          m,
        );
        return 'revoked' as const;
      });
      results.push({ deviceId, result });
    }
    return results;
  }

  /** Revokes every live device and the live account of a user and ends all their tokens (caller's transaction). */
  private async revokeEverything(m: EntityManager, user: User): Promise<{ devices: number; jamiId: string | null }> {
    await lockForTransaction(m, accountLockName(user.id));
    const devices = await this.devices.liveForUser(user.id, m);
    for (const d of devices) await this.revokeDeviceRow(m, d, 'cessationOfOperation');
    const account = await this.live(user.id, m);
    if (account) {
      const cert = await this.ca.issuedById(account.certificateId, m);
      if (cert) await this.ca.revoke(cert.issuerKeyId, cert.serialNumber, 'cessationOfOperation', m);
      await this.repo(m).update({ id: account.id }, { revokedAt: new Date() });
    }
    await this.tokens.revokeSubject(user.id, m);
    return { devices: devices.length, jamiId: account?.jamiId ?? null };
  }

  private async revokeDeviceRow(m: EntityManager, device: Device, reason: 'cessationOfOperation' | 'superseded') {
    const cert = await this.ca.issuedById(device.certificateId, m);
    if (cert) await this.ca.revoke(cert.issuerKeyId, cert.serialNumber, reason, m);
    await this.devices.markRevoked(device.id, m);
    await this.tokens.revokeDevice(device.deviceId, m);
  }
}
