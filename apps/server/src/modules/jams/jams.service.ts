import { X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { issueDeviceReceipt } from '@enclave/core';
import { issueDeviceCertificate, parseCsr } from '@enclave/pki';
import { EntityManager } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { tryLockForTransaction } from '../../database/advisory-lock';
import { TransactionRunner } from '../../database/transaction-runner';
import { AccountsService } from '../accounts/accounts.service';
import { AuditService } from '../audit/audit.service';
import { TokenService } from '../auth/token.service';
import { CaService } from '../ca/ca.service';
import { KeyPoolService } from '../ca/key-pool.service';
import { PolicyService } from '../policy/policy.service';
import { RoomsService } from '../rooms/rooms.service';
import { Device } from '../users/device.entity';
import { DevicesRepository } from '../users/devices.repository';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { DirectoryProfileDto, EnrollDeviceDto, JamsDeviceDto, JamsTokenDto } from './jams.dto';

export const NAME_SERVER_PATH = '/api/nameserver';

/**
 * A re-enrollment of a key whose certificate is younger than this is taken for a duplicate of a concurrent
 * request (clients re-enroll only when they have no valid identity, never a minute after enrolling). The age
 * counts from the start of the transaction that issued it, which may include an account key generation.
 */
export const DUPLICATE_ENROLLMENT_WINDOW_MS = 60_000;

export type EnrollmentAnswer = Record<string, string | number | boolean>;

function displayName(user: User): string {
  const full = [user.firstName, user.lastName].filter(Boolean).join(' ').trim();
  return full || user.username;
}

function deviceNameOf(raw: string | undefined): string {
  const printable = [...(raw ?? '')].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  return printable.trim().slice(0, 128) || 'Jami device';
}

/** The JAMS client protocol: what stock Jami clients call (reference: jams-protocol.md). */
@Injectable()
export class JamsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: TransactionRunner,
    private readonly users: UsersRepository,
    private readonly deviceRepo: DevicesRepository,
    private readonly accounts: AccountsService,
    private readonly ca: CaService,
    private readonly keyPool: KeyPoolService,
    private readonly tokens: TokenService,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly rooms: RoomsService,
  ) {}

  /**
   * POST /api/auth/device for a user the Basic guard authenticated: creates their account on the first device, certifies the
   * CSR's key with the account key and answers the flat JSON the client stores. Every check happens before
   * or inside one transaction: a refused request writes nothing and consumes no pooled key.
   */
  async enroll(user: User, dto: EnrollDeviceDto): Promise<EnrollmentAnswer> {
    const csr = await parseCsr(dto.csr);
    const ca = await this.ca.requireActive();
    const name = deviceNameOf(dto.deviceName);

    const result = await this.tx.run(async (m) => {
      // One enrollment per key at a time: a concurrent duplicate gets a 409 instead of a second certificate.
      if (!(await tryLockForTransaction(m, `device-key:${csr.deviceId}`))) {
        throw new AppError(
          ErrorCode.DEVICE_ENROLLMENT_CONFLICT,
          'Another enrollment of this device key is in progress; retry once it completes',
        );
      }
      const existing = await this.deviceRepo.byDeviceId(csr.deviceId, m, true);
      await this.checkKeyMayBeCertified(user, csr.shortDeviceId, existing, m);
      const live = await this.accounts.getOrCreate(user, ca, m);
      const cert = await issueDeviceCertificate({
        account: live.signer,
        csrPem: dto.csr,
        forbiddenKeyIds: [ca.keyId, live.account.jamiId],
        validityDays: (await this.ca.lifetimes(m)).deviceCertDays,
        crlUrl: this.ca.crlUrl(live.account.jamiId),
        ocspUrl: this.ca.ocspUrl,
        deviceName: name,
      });
      const issued = await this.ca.recordIssued(m, cert, live.account.jamiId, 'device');
      if (existing) {
        // Re-enrollment with the same key (current clients reuse it): the old certificate is superseded.
        const old = await this.ca.issuedById(existing.certificateId, m);
        if (old && !old.revokedAt) await this.ca.revoke(old.issuerKeyId, old.serialNumber, 'superseded', m);
        await this.deviceRepo.recertify(existing.id, issued.id, name, m);
      } else {
        await this.deviceRepo.insert({ userId: user.id, deviceId: csr.deviceId, name, certificateId: issued.id }, m);
      }
      const receipt = issueDeviceReceipt({
        accountPrivateKeyPem: live.signer.privateKeyPem,
        accountPublicKeyPem: live.account.publicKeyPem,
        devicePublicKeyPem: csr.publicKeyPem,
      });
      await this.audit.record(
        {
          actor: `user:${user.username}`,
          action: existing ? 'device.reenrolled' : 'device.enrolled',
          target: user.username,
          details: { deviceId: csr.deviceId, name, jamiId: live.account.jamiId },
        },
        m,
      );
      return {
        chain: cert.certificatePem + live.account.certificatePem + ca.certificatePem,
        receipt,
        created: live.created,
      };
    });
    if (result.created) await this.accounts.requestPoolRefill();

    const photo = await this.users.photo(user.id);
    return {
      ...(await this.daemonKeys(user)),
      ...(photo ? { userPhoto: photo.toString('base64') } : {}),
      certificateChain: result.chain,
      deviceReceipt: result.receipt.receipt,
      receiptSignature: result.receipt.signature,
      nameServer: NAME_SERVER_PATH,
      'Account.displayName': displayName(user),
    };
  }

  /**
   * The key rules of enrollment: a key enrolled by another user, a revoked device's key, or a key Enclave
   * certified as anything but this device (an account, a server, the CA) or holds in the account-key pool
   * is refused. The same user's unrevoked device re-enrolling its own key keeps its device id and gets a
   * fresh certificate, unless its current one is only seconds old (a duplicate of a request that just won).
   */
  private async checkKeyMayBeCertified(
    user: User,
    keyIdHex: string,
    existing: Device | null,
    m: EntityManager,
  ): Promise<void> {
    if (existing && existing.userId !== user.id) {
      throw new AppError(ErrorCode.DEVICE_KEY_IN_USE, 'This device key is already enrolled for another user');
    }
    if (existing?.revokedAt) {
      throw new AppError(
        ErrorCode.DEVICE_KEY_REVOKED,
        'This device key was revoked and is never certified again: create a new device identity',
        { deviceId: existing.deviceId, revokedAt: existing.revokedAt.toISOString() },
      );
    }
    if (existing) {
      const current = await this.ca.issuedById(existing.certificateId, m);
      if (current && Date.now() - current.createdAt.getTime() < DUPLICATE_ENROLLMENT_WINDOW_MS) {
        throw new AppError(
          ErrorCode.DEVICE_ENROLLMENT_CONFLICT,
          'This device key was enrolled moments ago by another request; use that certificate',
        );
      }
    }
    const use = await this.ca.nonDeviceUseOfKey(keyIdHex, m);
    if (use || (await this.keyPool.holds(keyIdHex, m))) {
      throw new AppError(ErrorCode.DEVICE_KEY_FORBIDDEN, 'This key cannot be certified as a device key', {
        reason: use === 'ca' ? 'ca key' : use ? `${use} key` : 'pooled account key',
      });
    }
  }

  /**
   * POST /api/login: a user the Basic guard authenticated → USER token (bad credentials were answered 403
   * there: a 401 wipes the client's identity); else the device's TLS client certificate → DEVICE token
   * (revoked or unknown device 401).
   */
  async login(user: User | null, peer: X509Certificate | undefined, ip: string): Promise<JamsTokenDto> {
    if (user) {
      const token = await this.tx.run(async (m) => {
        const issued = await this.tokens.issue('USER', user.id, this.config.auth.deviceTokenTtlSeconds, { manager: m });
        await this.audit.record({ actor: `user:${user.username}`, action: 'user.login', target: user.username }, m);
        return issued;
      });
      return { ...token, scope: 'USER', token_type: 'Bearer' };
    }
    let device: Device;
    let renewedChain: string | undefined;
    try {
      ({ device, renewedChain } = await this.deviceFromClientCertificate(peer));
    } catch (err) {
      if (err instanceof AppError) {
        await this.audit.record({
          actor: `ip:${ip}`,
          action: err.code === ErrorCode.DEVICE_REVOKED ? 'device.login_refused' : 'device.login_failed',
          details: { code: err.code, reason: err.message },
        });
      }
      throw err;
    }
    const token = await this.tx.run(async (m) => {
      const issued = await this.tokens.issue('DEVICE', device.userId, this.config.auth.deviceTokenTtlSeconds, {
        deviceId: device.deviceId,
        manager: m,
      });
      await this.audit.record(
        { actor: `device:${device.deviceId.slice(0, 16)}`, action: 'device.login', target: device.deviceId },
        m,
      );
      return issued;
    });
    await this.deviceRepo.touchLogin(device.id);
    return {
      ...token,
      scope: 'DEVICE',
      token_type: 'Bearer',
      ...(renewedChain ? { certificateChain: renewedChain } : {}),
    };
  }

  /**
   * The enrolled, unrevoked device whose exact certificate the client presented, within its validity period
   * and chaining device → account → org CA (each certificate currently valid and signed by the next), and its
   * renewed chain when that certificate has been superseded by a renewal.
   * Refusals: unknown or foreign certificate 401 DEVICE_UNKNOWN, expired 401 DEVICE_CERTIFICATE_EXPIRED
   * (the client enrolls again), revoked device / account or deleted user 401 DEVICE_REVOKED, suspended user
   * 403 USER_SUSPENDED (not 401: clients wipe their identity on 401, and a suspension can be lifted).
   */
  private async deviceFromClientCertificate(
    peer: X509Certificate | undefined,
  ): Promise<{ device: Device; renewedChain?: string }> {
    if (!peer) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Present the device certificate (TLS) or Basic credentials');
    }
    const serial = peer.serialNumber.toLowerCase().replace(/^0+/, '');
    const candidates = await this.ca.issuedBySerials([serial, `0${serial}`], 'device');
    const cert = candidates.find((c) => new X509Certificate(c.certificatePem).raw.equals(peer.raw));
    if (!cert) throw new AppError(ErrorCode.DEVICE_UNKNOWN, 'This certificate was not issued to an enrolled device');
    // A certificate superseded by a renewal (same key) still logs its device in until it expires.
    const current = await this.ca.latestOf(cert);
    const device = await this.deviceRepo.byCertificateId(current.id);
    if (!device || device.revokedAt || cert.revokedAt || current.revokedAt) {
      throw new AppError(ErrorCode.DEVICE_REVOKED, 'This device has been revoked');
    }
    const account = await this.accounts.byJamiId(cert.issuerKeyId);
    if (!account || account.revokedAt) throw new AppError(ErrorCode.DEVICE_REVOKED, 'The account has been revoked');
    const user = await this.users.byId(device.userId);
    if (!user || user.status === 'deleted') throw new AppError(ErrorCode.DEVICE_REVOKED, 'The user was deleted');
    if (user.status !== 'active') throw new AppError(ErrorCode.USER_SUSPENDED, `User "${user.username}" is suspended`);
    await this.checkChain(peer, account.certificatePem, account.certificateId);
    if (current.id === cert.id) return { device };
    const ca = await this.ca.requireActive();
    return { device, renewedChain: current.certificatePem + account.certificatePem + ca.certificatePem };
  }

  private async checkChain(peer: X509Certificate, accountPem: string, accountCertificateId: string): Promise<void> {
    const now = Date.now();
    const current = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    if (!current(peer)) {
      throw new AppError(
        ErrorCode.DEVICE_CERTIFICATE_EXPIRED,
        `The device certificate is valid from ${new Date(peer.validFrom).toISOString()} to ${new Date(peer.validTo).toISOString()}: enroll again`,
      );
    }
    const accountCert = new X509Certificate(accountPem);
    const issued = await this.ca.issuedById(accountCertificateId);
    const caPem = issued ? await this.ca.caCertificatePem(issued.issuerKeyId) : null;
    const caCert = caPem ? new X509Certificate(caPem) : null;
    const chains =
      caCert !== null &&
      peer.checkIssued(accountCert) &&
      peer.verify(accountCert.publicKey) &&
      accountCert.checkIssued(caCert) &&
      accountCert.verify(caCert.publicKey);
    if (!chains) {
      throw new AppError(ErrorCode.DEVICE_UNKNOWN, 'The device certificate does not chain to the organization CA');
    }
    if (!current(accountCert) || !current(caCert)) {
      throw new AppError(
        ErrorCode.DEVICE_CERTIFICATE_EXPIRED,
        'The account or organization CA certificate is outside its validity period: enroll again',
      );
    }
  }

  policyData(user: User): Promise<Record<string, string | number | boolean>> {
    return this.daemonKeys(user);
  }

  /** rooms: a room's devices get the room's keys (rendezvous, moderators) over the organization policy. */
  private daemonKeys(user: User): Promise<Record<string, string | number | boolean>> {
    return user.kind === 'room' ? this.rooms.daemonKeys(user) : this.policy.forUser(user.id);
  }

  async devices(user: User): Promise<JamsDeviceDto[]> {
    const rows = await this.deviceRepo.forUser(user.id);
    return rows.map((d) => ({ deviceId: d.deviceId, alias: d.name, revoked: d.revokedAt !== null }));
  }

  async revokeOwnDevice(user: User, deviceId: string): Promise<void> {
    await this.accounts.revokeDevice(user, deviceId, `user:${user.username}`);
  }

  /** Directory search for clients: enrolled, active users; only string members; `*` lists everyone. */
  async search(rawQuery: string | undefined): Promise<DirectoryProfileDto[]> {
    const query = (typeof rawQuery === 'string' ? rawQuery : '').trim().slice(0, 128);
    if (!query) return [];
    const users = await this.users.searchEnrolled(query, 100);
    return users.map((u) => {
      const p: DirectoryProfileDto = { id: u.jamiId as string, username: u.username };
      if (u.firstName) p.firstName = u.firstName;
      if (u.lastName) p.lastName = u.lastName;
      if (u.email) p.email = u.email;
      return p;
    });
  }
}
