import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { issueDeviceReceipt } from '@enclave/core';
import { issueDeviceCertificate, parseCsr } from '@enclave/pki';
import type { Request, Response } from 'express';
import { DataSource, ILike, IsNull, Not } from 'typeorm';
import { clientAddress } from '../../common/client-address';
import { AppError, ErrorCode } from '../../common/app-error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Account } from '../accounts/account.entity';
import { AccountsService } from '../accounts/accounts.service';
import { AuditService } from '../audit/audit.service';
import { TokenService } from '../auth/token.service';
import { CaService } from '../ca/ca.service';
import { IssuedCertificate } from '../ca/issued-certificate.entity';
import { PolicyService } from '../policy/policy.service';
import { RoomsService } from '../rooms/rooms.service';
import { Device } from '../users/device.entity';
import { UserAuthService } from '../directory/user-auth.service';
import { User } from '../users/user.entity';
import { DirectoryProfileDto, EnrollDeviceDto, JamsDeviceDto, JamsTokenDto } from './jams.dto';

export const NAME_SERVER_PATH = '/api/nameserver';

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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly userAuth: UserAuthService,
    private readonly accounts: AccountsService,
    private readonly ca: CaService,
    private readonly tokens: TokenService,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
    private readonly rooms: RoomsService,
  ) {}

  /**
   * POST /api/auth/device: authenticates the user, creates their account on the first device, certifies the
   * CSR's key with the account key and answers the flat JSON the client stores. Every check happens before
   * or inside one transaction: a refused request writes nothing and consumes no pooled key.
   */
  async enroll(req: Request, res: Response, dto: EnrollDeviceDto): Promise<EnrollmentAnswer> {
    const user = await this.userAuth.basic.authenticate(req, res);
    if (!user) throw new AppError(ErrorCode.UNAUTHENTICATED, 'HTTP Basic credentials are required to enroll a device');
    const csr = await parseCsr(dto.csr);
    const ca = await this.ca.requireActive();
    const name = deviceNameOf(dto.deviceName);

    const result = await this.dataSource.transaction(async (m) => {
      const existing = await m.findOne(Device, {
        where: { deviceId: csr.deviceId },
        lock: { mode: 'pessimistic_write' },
      });
      if (existing && existing.userId !== user.id) {
        throw new AppError(ErrorCode.DEVICE_KEY_IN_USE, 'This device key is already enrolled for another user');
      }
      const live = await this.accounts.getOrCreate(user, ca, m);
      const cert = await issueDeviceCertificate({
        account: live.signer,
        csrPem: dto.csr,
        forbiddenKeyIds: [ca.keyId, live.account.jamiId],
        validityDays: this.config.pki.deviceCertDays,
        crlUrl: this.ca.crlUrl(live.account.jamiId),
        ocspUrl: this.ca.ocspUrl,
        deviceName: name,
      });
      const issued = await this.ca.recordIssued(m, cert, live.account.jamiId, 'device');
      if (existing) {
        // Re-enrollment with the same key (current clients reuse it): the old certificate is superseded.
        const old = await m.findOne(IssuedCertificate, { where: { id: existing.certificateId } });
        if (old && !old.revokedAt) await this.ca.revoke(old.issuerKeyId, old.serialNumber, 'superseded', m);
        await m.update(Device, { id: existing.id }, { certificateId: issued.id, name, revokedAt: null });
      } else {
        await m.insert(Device, {
          userId: user.id,
          deviceId: csr.deviceId,
          name,
          certificateId: issued.id,
          revokedAt: null,
        });
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

    const photo = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .select('u.photo', 'photo')
      .where('u.id = :id', { id: user.id })
      .getRawOne<{ photo: Buffer | null }>();
    return {
      ...(await this.daemonKeys(user)),
      ...(photo?.photo ? { userPhoto: photo.photo.toString('base64') } : {}),
      certificateChain: result.chain,
      deviceReceipt: result.receipt.receipt,
      receiptSignature: result.receipt.signature,
      nameServer: NAME_SERVER_PATH,
      'Account.displayName': displayName(user),
    };
  }

  /**
   * POST /api/login: Basic → USER token (bad credentials 403: a 401 here wipes the client's identity);
   * the device's TLS client certificate → DEVICE token (revoked or unknown device 401).
   */
  async login(req: Request, res: Response): Promise<JamsTokenDto> {
    let user: User | null;
    try {
      user = await this.userAuth.basic.authenticate(req, res);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.INVALID_CREDENTIALS) {
        throw new AppError(ErrorCode.CREDENTIALS_REJECTED, err.message);
      }
      throw err;
    }
    if (user) {
      const token = await this.tokens.issue('USER', user.id, this.config.auth.deviceTokenTtlSeconds);
      return { ...token, scope: 'USER', token_type: 'Bearer' };
    }
    let device: Device;
    try {
      device = await this.deviceFromClientCertificate(req);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.DEVICE_REVOKED) {
        await this.audit.record({
          actor: `ip:${clientAddress(req)}`,
          action: 'device.login_refused',
          details: { reason: err.message },
        });
      }
      throw err;
    }
    const token = await this.tokens.issue('DEVICE', device.userId, this.config.auth.deviceTokenTtlSeconds, {
      deviceId: device.deviceId,
    });
    return { ...token, scope: 'DEVICE', token_type: 'Bearer' };
  }

  /** The enrolled, unrevoked device whose exact certificate the client presented. */
  private async deviceFromClientCertificate(req: Request): Promise<Device> {
    const socket = req.socket as TLSSocket;
    const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
    if (!peer) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'Present the device certificate (TLS) or Basic credentials');
    }
    const serial = peer.serialNumber.toLowerCase().replace(/^0+/, '');
    const candidates = await this.dataSource.getRepository(IssuedCertificate).find({
      where: [
        { serialNumber: serial, kind: 'device' },
        { serialNumber: `0${serial}`, kind: 'device' },
      ],
    });
    const cert = candidates.find((c) => new X509Certificate(c.certificatePem).raw.equals(peer.raw));
    if (!cert) throw new AppError(ErrorCode.DEVICE_UNKNOWN, 'This certificate was not issued to an enrolled device');
    const device = await this.dataSource.getRepository(Device).findOne({ where: { certificateId: cert.id } });
    if (!device || device.revokedAt || cert.revokedAt) {
      throw new AppError(ErrorCode.DEVICE_REVOKED, 'This device has been revoked');
    }
    const user = await this.dataSource.getRepository(User).findOne({ where: { id: device.userId } });
    if (!user || user.status !== 'active') throw new AppError(ErrorCode.DEVICE_REVOKED, 'The user is suspended');
    const account = await this.dataSource.getRepository(Account).findOne({ where: { jamiId: cert.issuerKeyId } });
    if (!account || account.revokedAt) throw new AppError(ErrorCode.DEVICE_REVOKED, 'The account has been revoked');
    return device;
  }

  policyData(user: User): Promise<Record<string, string | number | boolean>> {
    return this.daemonKeys(user);
  }

  /** rooms: a room's devices get the room's keys (rendezvous, moderators) over the organization policy. */
  private daemonKeys(user: User): Promise<Record<string, string | number | boolean>> {
    return user.kind === 'room' ? this.rooms.daemonKeys(user) : this.policy.forUser(user.id);
  }

  async devices(user: User): Promise<JamsDeviceDto[]> {
    const rows = await this.dataSource
      .getRepository(Device)
      .find({ where: { userId: user.id }, order: { createdAt: 'ASC' } });
    return rows.map((d) => ({ deviceId: d.deviceId, alias: d.name, revoked: d.revokedAt !== null }));
  }

  async revokeOwnDevice(user: User, deviceId: string): Promise<void> {
    await this.accounts.revokeDevice(user, deviceId, `user:${user.username}`);
  }

  /** Directory search for clients: enrolled, active users; only string members; `*` lists everyone. */
  async search(rawQuery: string | undefined): Promise<DirectoryProfileDto[]> {
    const query = (rawQuery ?? '').trim().slice(0, 128);
    if (!query) return [];
    const repo = this.dataSource.getRepository(User);
    const base = { status: 'active' as const, jamiId: Not(IsNull()) };
    const where =
      query === '*'
        ? [base]
        : (() => {
            const like = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
            return [
              { ...base, username: ILike(like) },
              { ...base, firstName: ILike(like) },
              { ...base, lastName: ILike(like) },
              { ...base, email: ILike(like) },
            ];
          })();
    const users = await repo.find({ where, order: { username: 'ASC' }, take: 100 });
    return users.map((u) => {
      const p: DirectoryProfileDto = { id: u.jamiId as string, username: u.username };
      if (u.firstName) p.firstName = u.firstName;
      if (u.lastName) p.lastName = u.lastName;
      if (u.email) p.email = u.email;
      return p;
    });
  }
}
