import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Device } from './device.entity';

export interface DevicePageQuery {
  status?: 'active' | 'revoked';
  search?: string;
  expiringWithinDays?: number;
  /** Devices enrolled strictly before this (created_at, id) key. */
  before?: { createdAt: string; id: string };
  limit: number;
}

export interface AdminDeviceRow {
  id: string;
  device_id: string;
  name: string;
  created_at: Date;
  last_login_at: Date | null;
  revoked_at: Date | null;
  owner: string;
  not_after: Date | null;
  /** created_at as exact text (microseconds), for the keyset cursor. */
  created_key: string;
}

/** The devices table, for the users module and the modules that enroll and revoke devices. */
@Injectable()
export class DevicesRepository {
  constructor(@InjectRepository(Device) private readonly devices: Repository<Device>) {}

  private repo(m?: EntityManager): Repository<Device> {
    return m ? m.getRepository(Device) : this.devices;
  }

  byId(id: string, m?: EntityManager): Promise<Device | null> {
    return this.repo(m).findOne({ where: { id } });
  }

  /** By device ID (SHA-256 of the key); `lock` holds the row until the caller's transaction ends. */
  byDeviceId(deviceId: string, m?: EntityManager, lock = false): Promise<Device | null> {
    return this.repo(m).findOne({
      where: { deviceId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  ofUser(userId: string, deviceId: string, m?: EntityManager, lock = false): Promise<Device | null> {
    return this.repo(m).findOne({
      where: { userId, deviceId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  byCertificateId(certificateId: string): Promise<Device | null> {
    return this.devices.findOne({ where: { certificateId } });
  }

  forUser(userId: string, m?: EntityManager): Promise<Device[]> {
    return this.repo(m).find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  liveForUser(userId: string, m?: EntityManager): Promise<Device[]> {
    return this.repo(m).find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  async insert(
    fields: Pick<Device, 'userId' | 'deviceId' | 'name' | 'certificateId'>,
    m: EntityManager,
  ): Promise<void> {
    await this.repo(m).insert({ ...fields, revokedAt: null });
  }

  /** A new certificate for an enrolled, unrevoked device (same key, same device id). */
  async recertify(id: string, certificateId: string, name: string, m: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, { certificateId, name });
  }

  async update(id: string, fields: Partial<Pick<Device, 'name' | 'revokedAt'>>, m?: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, fields);
  }

  /** Records a device login; at most one write a minute per device. */
  async touchLogin(id: string): Promise<void> {
    await this.devices.query(
      `UPDATE devices SET last_login_at = now() WHERE id = $1 AND (last_login_at IS NULL OR last_login_at < now() - interval '1 minute')`,
      [id],
    );
  }

  /**
   * One keyset page of the organization's devices, newest enrollment first, with owner and certificate
   * expiry; up to `limit + 1` rows.
   */
  page(q: DevicePageQuery): Promise<AdminDeviceRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.status === 'active') where.push('d.revoked_at IS NULL');
    if (q.status === 'revoked') where.push('d.revoked_at IS NOT NULL');
    if (q.search) {
      const like = p(`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const prefix = /^[0-9a-f]{1,64}$/i.test(q.search)
        ? ` OR d.device_id LIKE ${p(`${q.search.toLowerCase()}%`)}`
        : '';
      where.push(`(d.name ILIKE ${like} OR u.username ILIKE ${like}${prefix})`);
    }
    if (q.expiringWithinDays !== undefined) {
      where.push(`d.revoked_at IS NULL AND c.not_after < now() + make_interval(days => ${p(q.expiringWithinDays)})`);
    }
    if (q.before) {
      where.push(`(d.created_at, d.id) < (${p(q.before.createdAt)}::timestamptz, ${p(q.before.id)}::uuid)`);
    }
    return this.devices.query(
      `SELECT d.id, d.device_id, d.name, d.created_at, d.last_login_at, d.revoked_at, u.username AS owner, c.not_after,
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key
       FROM devices d JOIN users u ON u.id = d.user_id LEFT JOIN issued_certificates c ON c.id = d.certificate_id
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY d.created_at DESC, d.id DESC LIMIT ${p(q.limit + 1)}`,
      params,
    );
  }

  async markRevoked(id: string, m: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, { revokedAt: new Date() });
  }

  /** Enrolled devices, active and revoked, for /metrics. */
  async countByStatus(): Promise<{ active: number; revoked: number }> {
    const row = await this.devices
      .createQueryBuilder('d')
      .select('COUNT(*) FILTER (WHERE d.revoked_at IS NULL)', 'active')
      .addSelect('COUNT(*) FILTER (WHERE d.revoked_at IS NOT NULL)', 'revoked')
      .getRawOne<{ active: string; revoked: string }>();
    return { active: Number(row?.active ?? 0), revoked: Number(row?.revoked ?? 0) };
  }
}
