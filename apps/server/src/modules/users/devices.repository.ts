import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Device } from './device.entity';

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

  async markRevoked(id: string, m: EntityManager): Promise<void> {
    await this.repo(m).update({ id }, { revokedAt: new Date() });
  }
}
