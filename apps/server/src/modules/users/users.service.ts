import { Injectable } from '@nestjs/common';
import { EntityManager, QueryFailedError } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { AuditService } from '../audit/audit.service';
import { TokenService } from '../auth/token.service';
import { hashPassword } from '../auth/password-hasher';
import { Device } from './device.entity';
import { DevicesRepository } from './devices.repository';
import { RELEASED_NAME_PREFIX, User } from './user.entity';
import { checkPassword, normalizeUsername, USERNAME_PATTERN } from './username';
import {
  CreateUserDto,
  DeviceSummaryDto,
  ListUsersQueryDto,
  SuspendUserDto,
  TombstoneDto,
  UpdateUserDto,
  UserListResponseDto,
  UserResponseDto,
  UserSummaryDto,
} from './users.dto';
import { UsersRepository } from './users.repository';

/** A user's profile and status: the audited state, and the summary without its timestamp. */
function profileOf(u: User) {
  return {
    username: u.username,
    firstName: u.firstName,
    lastName: u.lastName,
    email: u.email,
    phone: u.phone,
    source: u.source,
    status: u.status,
    suspendedReason: u.suspendedReason,
    suspensionNote: u.suspensionNote,
    jamiId: u.jamiId,
  };
}

export function toUserSummary(u: User): UserSummaryDto {
  return { ...profileOf(u), createdAt: u.createdAt.toISOString() };
}

export function toDeviceSummary(d: Device): DeviceSummaryDto {
  return {
    deviceId: d.deviceId,
    name: d.name,
    createdAt: d.createdAt.toISOString(),
    revokedAt: d.revokedAt?.toISOString() ?? null,
    lastLoginAt: d.lastLoginAt?.toISOString() ?? null,
  };
}

/** The audited state of a user: profile and status, never the password hash or photo. */
export function userSnapshot(u: User): Record<string, unknown> {
  return profileOf(u);
}

const PROFILE_FIELDS = ['firstName', 'lastName', 'email', 'phone'] as const;

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err as QueryFailedError & { code?: string }).code === '23505';

function encodeCursor(username: string): string {
  return Buffer.from(username, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const username = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!USERNAME_PATTERN.test(username)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor is invalid: pass nextCursor from a previous page', {
      field: 'cursor',
    });
  }
  return username;
}

/**
 * Users as admins manage them: local creation, profile edits, suspension, local password resets, the keyset
 * listing, and the tombstones deleted users leave (their username and Jami ID stay reserved until an owner
 * releases them). Deleting a user revokes certificates, so it lives in AccountsService.delete().
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly tx: TransactionRunner,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
  ) {}

  async create(dto: CreateUserDto, actor: string): Promise<UserResponseDto> {
    const username = normalizeUsername(dto.username);
    checkPassword(dto.password);
    const taken = await this.users.byUsername(username);
    if (taken?.status === 'deleted') throw this.reserved(username);
    if (taken) throw new AppError(ErrorCode.USER_EXISTS, `User "${username}" already exists`);
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
        await this.audit.record(
          { actor, action: 'user.created', target: username, details: { source: 'local' }, after: userSnapshot(saved) },
          m,
        );
        return saved;
      });
      return { ...toUserSummary(user), devices: [] };
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError(ErrorCode.USER_EXISTS, `User "${username}" already exists`);
      throw err;
    }
  }

  async list(query: ListUsersQueryDto): Promise<UserListResponseDto> {
    const limit = query.limit ?? 50;
    const rows = await this.users.page({
      search: query.search?.trim() || undefined,
      status: query.status,
      source: query.source,
      groupId: query.group,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit,
    });
    const items = rows.slice(0, limit);
    return {
      items: items.map(toUserSummary),
      nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].username) : null,
      limit,
    };
  }

  /** A user who is not deleted, by username (case-insensitive); USER_NOT_FOUND otherwise. */
  async entity(rawUsername: string, m?: EntityManager): Promise<User> {
    const user = await this.users.byUsername(rawUsername.trim().toLowerCase(), m);
    if (!user || user.status === 'deleted') {
      throw new AppError(ErrorCode.USER_NOT_FOUND, `No user "${rawUsername.slice(0, 64)}"`);
    }
    if (user.kind === 'room') {
      // A room's account is managed through /api/admin/rooms, never as a person.
      throw new AppError(ErrorCode.USER_NOT_FOUND, `"${user.username}" is a conference room: see /api/admin/rooms`);
    }
    return user;
  }

  async get(rawUsername: string): Promise<UserResponseDto> {
    const user = await this.entity(rawUsername);
    const devices = await this.devices.forUser(user.id);
    return { ...toUserSummary(user), devices: devices.map(toDeviceSummary) };
  }

  /** Edits a local user's profile. A directory user's profile fields belong to the directory: 409. */
  async update(rawUsername: string, dto: UpdateUserDto, actor: string): Promise<UserResponseDto> {
    const given = PROFILE_FIELDS.filter((f) => dto[f] !== undefined);
    if (!given.length) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, `Give at least one of ${PROFILE_FIELDS.join(', ')}`, {
        fields: PROFILE_FIELDS,
      });
    }
    await this.tx.run(async (m) => {
      const user = await this.locked(rawUsername, m);
      if (user.source !== 'local') {
        throw new AppError(
          ErrorCode.USER_FIELD_MANAGED_BY_DIRECTORY,
          `${given.join(', ')} of directory user "${user.username}" come from the directory (${user.source}); change them there`,
          { fields: given, source: user.source },
        );
      }
      const clean = (v: string | null | undefined) => (v === null ? null : v?.trim() || null);
      const changes: Partial<User> = {};
      for (const f of given) changes[f] = f === 'email' ? (clean(dto.email)?.toLowerCase() ?? null) : clean(dto[f]);
      await this.users.update(user.id, changes, m);
      await this.audit.record(
        {
          actor,
          action: 'user.updated',
          target: user.username,
          details: { fields: given },
          before: userSnapshot(user),
          after: userSnapshot({ ...user, ...changes } as User),
        },
        m,
      );
    });
    return this.get(rawUsername);
  }

  /**
   * Suspends an active user: enrollment, logins and the name server refuse them and their tokens end at
   * once. Certificates stay valid (resume brings the devices back); revoke or delete to cut them for good.
   */
  async suspend(rawUsername: string, dto: SuspendUserDto, actor: string): Promise<UserResponseDto> {
    await this.tx.run(async (m) => {
      const user = await this.locked(rawUsername, m);
      if (user.status !== 'active') {
        throw new AppError(ErrorCode.USER_STATUS_CONFLICT, `User "${user.username}" is already suspended`, {
          status: user.status,
        });
      }
      const changes = {
        status: 'suspended' as const,
        suspendedReason: 'admin',
        suspensionNote: dto.reason.trim(),
      };
      await this.users.update(user.id, changes, m);
      await this.tokens.revokeSubject(user.id, m);
      await this.audit.record(
        {
          actor,
          action: 'user.suspended',
          target: user.username,
          details: { reason: changes.suspensionNote },
          before: userSnapshot(user),
          after: userSnapshot({ ...user, ...changes }),
        },
        m,
      );
    });
    return this.get(rawUsername);
  }

  /**
   * Resumes a user an admin suspended. Certificates revoked meanwhile stay revoked (a revoked account's
   * user enrolls again and gets a new account); users the directory suspended are resumed by the directory.
   */
  async resume(rawUsername: string, actor: string): Promise<UserResponseDto> {
    await this.tx.run(async (m) => {
      const user = await this.locked(rawUsername, m);
      if (user.status !== 'suspended') {
        throw new AppError(ErrorCode.USER_STATUS_CONFLICT, `User "${user.username}" is not suspended`, {
          status: user.status,
        });
      }
      if (user.suspendedReason === 'directory') {
        throw new AppError(
          ErrorCode.USER_STATUS_CONFLICT,
          `User "${user.username}" was suspended by the directory (disabled or gone there); enable them in the directory`,
          { suspendedReason: user.suspendedReason },
        );
      }
      const changes = { status: 'active' as const, suspendedReason: null, suspensionNote: null };
      await this.users.update(user.id, changes, m);
      await this.audit.record(
        {
          actor,
          action: 'user.resumed',
          target: user.username,
          before: userSnapshot(user),
          after: userSnapshot({ ...user, ...changes }),
        },
        m,
      );
    });
    return this.get(rawUsername);
  }

  /**
   * Sets a local user's password. Their USER tokens end (they came from the old password); DEVICE tokens
   * stay, as they come from device certificates, not the password (revoke a device to cut it).
   */
  async setPassword(rawUsername: string, password: string, actor: string): Promise<void> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    await this.tx.run(async (m) => {
      const user = await this.locked(rawUsername, m);
      if (user.source !== 'local') {
        throw new AppError(
          ErrorCode.USER_NOT_LOCAL,
          `User "${user.username}" authenticates against the directory (${user.source}); change the password there`,
          { source: user.source },
        );
      }
      await this.users.update(user.id, { passwordHash }, m);
      await this.tokens.revokeSubjectScopes(user.id, ['USER'], m);
      await this.audit.record(
        { actor, action: 'user.password_set', target: user.username, details: { userTokensEnded: true } },
        m,
      );
    });
  }

  /**
   * Turns a user into a tombstone inside the caller's transaction (after their certificates were revoked):
   * the row keeps the username, Jami ID and directory id, so nobody else can take the name, the name server
   * answers 404 for it and directory syncs skip it; profile data and password are cleared.
   */
  async tombstone(user: User, m: EntityManager): Promise<User> {
    const changes: Partial<User> = {
      status: 'deleted',
      deletedAt: new Date(),
      passwordHash: null,
      firstName: null,
      lastName: null,
      email: null,
      phone: null,
      photo: null,
      suspendedReason: null,
      suspensionNote: null,
    };
    await this.users.update(user.id, changes, m);
    return { ...user, ...changes } as User;
  }

  async tombstones(): Promise<TombstoneDto[]> {
    return (await this.users.tombstones()).map((u) => ({
      username: u.username,
      jamiId: u.jamiId,
      source: u.source,
      deletedAt: (u.deletedAt ?? u.updatedAt).toISOString(),
    }));
  }

  /**
   * Releases a tombstone: the name becomes free for a new user (who gets a new Jami ID; the old one never
   * resolves again). The row stays, under a placeholder name, for the accounts and certificates it owns.
   */
  async releaseTombstone(rawUsername: string, actor: string): Promise<void> {
    const username = rawUsername.trim().toLowerCase();
    await this.tx.run(async (m) => {
      const user = USERNAME_PATTERN.test(username) ? await this.users.byUsername(username, m) : null;
      if (!user || user.status !== 'deleted') {
        throw new AppError(
          ErrorCode.TOMBSTONE_NOT_FOUND,
          `No deleted user holds the name "${rawUsername.slice(0, 64)}"`,
        );
      }
      const placeholder = `${RELEASED_NAME_PREFIX}${user.id.replace(/-/g, '').slice(0, 31)}`;
      await this.users.update(user.id, { username: placeholder, externalId: null }, m);
      await this.audit.record(
        {
          actor,
          action: 'user.tombstone_released',
          target: username,
          details: { jamiId: user.jamiId },
          before: { username, reserved: true },
          after: { username, reserved: false },
        },
        m,
      );
    });
  }

  private async locked(rawUsername: string, m: EntityManager): Promise<User> {
    const user = await this.entity(rawUsername, m);
    return (await this.users.lockById(user.id, m)) as User;
  }

  private reserved(username: string): AppError {
    return new AppError(
      ErrorCode.USERNAME_RESERVED,
      `The name "${username}" belongs to a deleted user; an owner can release it (DELETE /api/admin/tombstones/${username})`,
      { username },
    );
  }

  // --- Read model for /metrics (metrics work) ---

  /** People (room accounts left out) per status and source. */
  countByStatusAndSource(): Promise<{ status: string; source: string; count: number }[]> {
    return this.users.countByStatusAndSource();
  }

  /** Enrolled devices, active and revoked. */
  countDevicesByStatus(): Promise<{ active: number; revoked: number }> {
    return this.devices.countByStatus();
  }
}
