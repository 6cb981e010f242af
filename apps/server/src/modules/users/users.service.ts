import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AuditService } from '../audit/audit.service';
import { hashPassword } from '../auth/password-hasher';
import { Device } from './device.entity';
import { User } from './user.entity';
import { checkPassword, normalizeUsername } from './username';
import { CreateUserDto, ListUsersQueryDto, UserListResponseDto, UserResponseDto, UserSummaryDto } from './users.dto';

export function toUserSummary(u: User): UserSummaryDto {
  return {
    username: u.username,
    firstName: u.firstName,
    lastName: u.lastName,
    email: u.email,
    source: u.source,
    status: u.status,
    jamiId: u.jamiId,
    createdAt: u.createdAt.toISOString(),
  };
}

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err as QueryFailedError & { code?: string }).code === '23505';

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async create(dto: CreateUserDto, actor: string): Promise<UserResponseDto> {
    const username = normalizeUsername(dto.username);
    checkPassword(dto.password);
    const passwordHash = await hashPassword(dto.password);
    try {
      const user = await this.dataSource.transaction(async (m) => {
        const saved = await m.save(
          m.create(User, {
            username,
            passwordHash,
            firstName: dto.firstName?.trim() || null,
            lastName: dto.lastName?.trim() || null,
            email: dto.email?.trim().toLowerCase() || null,
            source: 'local',
            status: 'active',
          }),
        );
        await this.audit.record({ actor, action: 'user.created', target: username, details: { source: 'local' } }, m);
        return saved;
      });
      return { ...toUserSummary(user), devices: [] };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.USER_EXISTS, `User "${username}" already exists`);
      throw err;
    }
  }

  async list(query: ListUsersQueryDto): Promise<UserListResponseDto> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? 50;
    const qb = this.users.createQueryBuilder('u').orderBy('u.username', 'ASC');
    const search = query.search?.trim();
    if (search) {
      const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.where(
        "(u.username ILIKE :like OR u.first_name ILIKE :like OR u.last_name ILIKE :like OR u.email ILIKE :like OR (coalesce(u.first_name,'') || ' ' || coalesce(u.last_name,'')) ILIKE :like)",
        { like },
      );
    }
    const [rows, total] = await qb
      .skip((page - 1) * pageSize)
      .take(pageSize)
      .getManyAndCount();
    return { items: rows.map(toUserSummary), page, pageSize, total };
  }

  async entity(rawUsername: string): Promise<User> {
    const user = await this.users.findOne({ where: { username: rawUsername.trim().toLowerCase() } });
    if (!user) throw new AppError(ErrorCode.USER_NOT_FOUND, `No user "${rawUsername.slice(0, 64)}"`);
    return user;
  }

  async get(rawUsername: string): Promise<UserResponseDto> {
    const user = await this.entity(rawUsername);
    const devices = await this.devices.find({ where: { userId: user.id }, order: { createdAt: 'ASC' } });
    return {
      ...toUserSummary(user),
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        name: d.name,
        createdAt: d.createdAt.toISOString(),
        revokedAt: d.revokedAt?.toISOString() ?? null,
      })),
    };
  }

  // --- Read model for /metrics (metrics work) ---

  /** Users per status and source. */
  async countByStatusAndSource(): Promise<{ status: string; source: string; count: number }[]> {
    const rows = await this.users
      .createQueryBuilder('u')
      .select('u.status', 'status')
      .addSelect('u.source', 'source')
      .addSelect('COUNT(*)', 'count')
      .groupBy('u.status')
      .addGroupBy('u.source')
      .getRawMany<{ status: string; source: string; count: string }>();
    return rows.map((r) => ({ status: r.status, source: r.source, count: Number(r.count) }));
  }

  /** Enrolled devices, active and revoked. */
  async countDevicesByStatus(): Promise<{ active: number; revoked: number }> {
    const row = await this.devices
      .createQueryBuilder('d')
      .select('COUNT(*) FILTER (WHERE d.revoked_at IS NULL)', 'active')
      .addSelect('COUNT(*) FILTER (WHERE d.revoked_at IS NOT NULL)', 'revoked')
      .getRawOne<{ active: string; revoked: string }>();
    return { active: Number(row?.active ?? 0), revoked: Number(row?.revoked ?? 0) };
  }
}
