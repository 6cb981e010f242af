import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { AuditService } from '../audit/audit.service';
import { AdminDeviceRow, DevicesRepository } from './devices.repository';
import { AdminDeviceDto, DeviceListResponseDto, DeviceSummaryDto, ListDevicesQueryDto } from './users.dto';
import { toDeviceSummary, UsersService } from './users.service';

const CURSOR_KEY = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f-]{36})$/;

function toAdminDevice(r: AdminDeviceRow): AdminDeviceDto {
  return {
    deviceId: r.device_id,
    name: r.name,
    owner: r.owner,
    status: r.revoked_at ? 'revoked' : 'active',
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    lastLoginAt: r.last_login_at ? new Date(r.last_login_at).toISOString() : null,
    certificateExpiresAt: r.not_after ? new Date(r.not_after).toISOString() : null,
  };
}

/** The organization's devices as admins see them: the cross-user list and renaming. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly users: UsersService,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  async list(query: ListDevicesQueryDto): Promise<DeviceListResponseDto> {
    const limit = query.limit ?? 50;
    let before: { createdAt: string; id: string } | undefined;
    if (query.cursor) {
      const m = CURSOR_KEY.exec(Buffer.from(query.cursor, 'base64url').toString('utf8'));
      if (!m) {
        throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor is invalid: pass nextCursor from a previous page', {
          field: 'cursor',
        });
      }
      before = { createdAt: m[1], id: m[2] };
    }
    const rows = await this.devices.page({
      status: query.status,
      search: query.search?.trim() || undefined,
      expiringWithinDays: query.expiringWithinDays,
      before,
      limit,
    });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toAdminDevice),
      nextCursor:
        rows.length > limit ? Buffer.from(`${last.created_key}|${last.id}`, 'utf8').toString('base64url') : null,
      limit,
    };
  }

  async rename(rawUsername: string, rawDeviceId: string, name: string, actor: string): Promise<DeviceSummaryDto> {
    const deviceId = rawDeviceId.toLowerCase();
    return this.tx.run(async (m) => {
      const user = await this.users.entity(rawUsername, m);
      const device = /^[0-9a-f]{64}$/.test(deviceId) ? await this.devices.ofUser(user.id, deviceId, m, true) : null;
      if (!device) {
        throw new AppError(
          ErrorCode.DEVICE_NOT_FOUND,
          `User "${user.username}" has no device ${rawDeviceId.slice(0, 64)}`,
        );
      }
      await this.devices.update(device.id, { name }, m);
      await this.audit.record(
        {
          actor,
          action: 'device.renamed',
          target: user.username,
          details: { deviceId },
          before: { name: device.name },
          after: { name },
        },
        m,
      );
      return toDeviceSummary({ ...device, name });
    });
  }
}
