import { Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { AuditService } from '../audit/audit.service';
import { hashPassword } from '../auth/password-hasher';
import { DevicesRepository } from './devices.repository';
import { User } from './user.entity';
import { UsersRepository } from './users.repository';
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
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  async create(dto: CreateUserDto, actor: string): Promise<UserResponseDto> {
    const username = normalizeUsername(dto.username);
    checkPassword(dto.password);
    const passwordHash = await hashPassword(dto.password);
    try {
      const user = await this.tx.run(async (m) => {
        const saved = await this.users.insert(
          {
            username,
            passwordHash,
            firstName: dto.firstName?.trim() || null,
            lastName: dto.lastName?.trim() || null,
            email: dto.email?.trim().toLowerCase() || null,
            source: 'local',
            status: 'active',
          },
          m,
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
    const [rows, total] = await this.users.page(query.search?.trim() || undefined, page, pageSize);
    return { items: rows.map(toUserSummary), page, pageSize, total };
  }

  async entity(rawUsername: string): Promise<User> {
    const user = await this.users.byUsername(rawUsername.trim().toLowerCase());
    if (!user) throw new AppError(ErrorCode.USER_NOT_FOUND, `No user "${rawUsername.slice(0, 64)}"`);
    return user;
  }

  async get(rawUsername: string): Promise<UserResponseDto> {
    const user = await this.entity(rawUsername);
    const devices = await this.devices.forUser(user.id);
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
}
