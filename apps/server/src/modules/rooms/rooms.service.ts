import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, IsNull, QueryFailedError, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AccountsService } from '../accounts/accounts.service';
import { AuditService } from '../audit/audit.service';
import { hashPassword, verifyPassword } from '../auth/password-hasher';
import { CaService } from '../ca/ca.service';
import { Group } from '../groups/group.entity';
import { PeopleRef, PeopleService } from '../groups/people.service';
import { PolicyService } from '../policy/policy.service';
import { Device } from '../users/device.entity';
import { User } from '../users/user.entity';
import { normalizeUsername } from '../users/username';
import { HostReport, Room } from './room.entity';
import {
  CreateRoomDto,
  HostEnrollmentDto,
  HostStatusReportDto,
  ResolvedPeopleDto,
  RoomDto,
  UpdateRoomDto,
} from './rooms.dto';

/** A host that reported within this window is shown online. */
export const HOST_ONLINE_WINDOW_MS = 30_000;
const DEFAULT_SECRET_TTL_HOURS = 24;

const isUniqueViolation = (err: unknown) =>
  err instanceof QueryFailedError && (err as QueryFailedError & { code?: string }).code === '23505';

/** The audit view of a room's settings (no secret material). */
function settingsOf(room: Room): Record<string, unknown> {
  return {
    displayName: room.displayName,
    moderators: room.moderators,
    members: room.members,
    allParticipantsModerators: room.allParticipantsModerators,
  };
}

/**
 * Conference rooms: managed accounts in rendezvous mode whose moderators and members come from Enclave.
 * The room's account lives in `users` (kind 'room', no password) so certificates, the name server, CRL/OCSP
 * and the JAMS enrollment work unchanged; its host enrolls once with a one-time secret.
 */
@Injectable()
export class RoomsService {
  constructor(
    @InjectRepository(Room) private readonly rooms: Repository<Room>,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly people: PeopleService,
    private readonly accounts: AccountsService,
    private readonly ca: CaService,
    private readonly policy: PolicyService,
    private readonly audit: AuditService,
  ) {}

  // ---- admin API ------------------------------------------------------------------------------------

  /** Creates the room's account (key and certificate from the org CA, so it has its Jami ID at once). */
  async create(dto: CreateRoomDto, actor: string): Promise<RoomDto> {
    const name = normalizeUsername(dto.name);
    const moderators = await this.people.normalize(dto.moderators, 'moderators');
    const members = dto.members ? await this.people.normalize(dto.members, 'members') : null;
    const ca = await this.ca.requireActive();
    let created: { created: boolean };
    try {
      created = await this.dataSource.transaction(async (m) => {
        // Written here, not through UsersService: a room's account row has no password and no person behind it.
        const user = await m.save(
          m.create(User, {
            username: name,
            passwordHash: null,
            firstName: dto.displayName?.trim() || name,
            source: 'local',
            status: 'active',
            kind: 'room',
          }),
        );
        const live = await this.accounts.getOrCreate(user, ca, m);
        const room = await m.save(
          m.create(Room, {
            userId: user.id,
            displayName: dto.displayName?.trim() || name,
            moderators,
            members,
            allParticipantsModerators: dto.allParticipantsModerators ?? false,
          }),
        );
        await this.audit.record(
          {
            actor,
            action: 'room.created',
            target: name,
            details: { jamiId: live.account.jamiId },
            after: settingsOf(room),
          },
          m,
        );
        return { created: live.created };
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError(ErrorCode.ROOM_NAME_TAKEN, `The name "${name}" is already used by a user or a room`, {
          field: 'name',
        });
      }
      throw err;
    }
    if (created.created) await this.accounts.requestPoolRefill();
    return this.get(name);
  }

  async list(): Promise<RoomDto[]> {
    const rows = await this.rooms.find({ relations: { user: true } });
    rows.sort((a, b) => a.user!.username.localeCompare(b.user!.username));
    return Promise.all(rows.map((r) => this.toDto(r)));
  }

  async get(rawName: string): Promise<RoomDto> {
    return this.toDto(await this.find(rawName));
  }

  async update(rawName: string, dto: UpdateRoomDto, actor: string): Promise<RoomDto> {
    const room = await this.find(rawName);
    const before = settingsOf(room);
    const patch: Partial<Room> = {};
    if (dto.displayName !== undefined) patch.displayName = dto.displayName.trim() || room.user!.username;
    if (dto.moderators !== undefined) patch.moderators = await this.people.normalize(dto.moderators, 'moderators');
    if (dto.members !== undefined) {
      patch.members = dto.members === null ? null : await this.people.normalize(dto.members, 'members');
      patch.membersChangedAt = new Date();
    }
    if (dto.allParticipantsModerators !== undefined) patch.allParticipantsModerators = dto.allParticipantsModerators;
    if (Object.keys(patch).length === 0) return this.toDto(room);
    await this.dataSource.transaction(async (m) => {
      await m.update(Room, { id: room.id }, patch);
      if (patch.displayName !== undefined) await m.update(User, { id: room.userId }, { firstName: patch.displayName });
      await this.audit.record(
        {
          actor,
          action: 'room.updated',
          target: room.user!.username,
          before,
          after: settingsOf({ ...room, ...patch }),
        },
        m,
      );
    });
    return this.get(room.user!.username);
  }

  /** Revokes the room's account and devices (CRL, OCSP); the name stays reserved by the revoked account. */
  async remove(rawName: string, actor: string): Promise<void> {
    const room = await this.find(rawName);
    const user = room.user!;
    await this.accounts.revokeAccount(user, actor, { action: 'room.account_revoked' });
    await this.dataSource.transaction(async (m) => {
      await m.delete(Room, { id: room.id });
      await this.audit.record({ actor, action: 'room.deleted', target: user.username, before: settingsOf(room) }, m);
    });
  }

  /**
   * A one-time secret for the room's host: exactly one device enrolls with it (POST /api/auth/device with
   * Basic room:secret). Issuing a new one revokes the previous host device(s).
   */
  async issueHostEnrollment(rawName: string, ttlHours: number | undefined, actor: string): Promise<HostEnrollmentDto> {
    const room = await this.find(rawName);
    const secret = randomBytes(18).toString('base64url');
    const expiresAt = new Date(Date.now() + (ttlHours ?? DEFAULT_SECRET_TTL_HOURS) * 3600_000);
    const hash = await hashPassword(secret);
    const previous = await this.devices.find({ where: { userId: room.userId, revokedAt: IsNull() } });
    for (const d of previous) await this.accounts.revokeDevice(room.user!, d.deviceId, actor);
    await this.dataSource.transaction(async (m) => {
      await m.update(
        Room,
        { id: room.id },
        {
          hostSecretHash: hash,
          hostSecretExpiresAt: expiresAt,
          hostSecretUsedAt: null,
          hostReport: null,
          hostReportedAt: null,
        },
      );
      await this.audit.record(
        {
          actor,
          action: 'room.host_enrollment_issued',
          target: room.user!.username,
          details: { expiresAt: expiresAt.toISOString(), revokedDevices: previous.map((d) => d.deviceId) },
        },
        m,
      );
    });
    return { username: room.user!.username, password: secret, expiresAt: expiresAt.toISOString() };
  }

  // ---- hooks for the JAMS protocol ------------------------------------------------------------------

  /**
   * Basic authentication of a room's host (called for users of kind 'room'): the outstanding secret,
   * unexpired and unused, is consumed atomically. Null means refused, exactly like a wrong password.
   */
  async authenticateHost(user: User, password: string): Promise<User | null> {
    const room = await this.rooms.findOne({ where: { userId: user.id } });
    if (!room || !(await verifyPassword(room.hostSecretHash, password))) return null;
    const consumed = await this.dataSource.transaction(async (m) => {
      const res: unknown[] = await m.query(
        `UPDATE rooms SET host_secret_used_at = now()
          WHERE id = $1 AND host_secret_hash = $2 AND host_secret_used_at IS NULL AND host_secret_expires_at > now()
          RETURNING id`,
        [room.id, room.hostSecretHash],
      );
      const ok = Array.isArray(res[0]) ? (res[0] as unknown[]).length > 0 : res.length > 0;
      if (ok) {
        await this.audit.record(
          { actor: `room-host:${user.username}`, action: 'room.host_secret_used', target: user.username },
          m,
        );
      }
      return ok;
    });
    return consumed ? user : null;
  }

  /**
   * The daemon keys of a room's devices (enrollment answer and policyData): the organization's policy for
   * the room's account, overlaid with the room: rendezvous, its moderators' Jami IDs, local moderators off,
   * all-moderators per the flag (both spellings), its display name; with members, no calls from non-contacts.
   */
  async daemonKeys(user: User): Promise<Record<string, string | number | boolean>> {
    const room = await this.rooms.findOne({ where: { userId: user.id } });
    const base = await this.policy.forUser(user.id);
    if (!room) return base;
    const moderators = await this.people.resolve(room.moderators);
    return {
      ...base,
      'Account.rendezVous': true,
      'Account.defaultModerators': moderators.jamiIds.join('/'),
      'Account.localModeratorsEnabled': false,
      'Account.allModeratorEnabled': room.allParticipantsModerators,
      'Account.allModeratorsEnabled': room.allParticipantsModerators,
      'Account.displayName': room.displayName,
      ...(room.members ? { 'DHT.PublicInCalls': false, 'DHT.AllowFromTrusted': false } : {}),
    };
  }

  /**
   * The contact list of a room's device (answer of POST /api/auth/contacts): exactly its members' Jami IDs,
   * or none when the room is open to everyone.
   */
  async contacts(user: User): Promise<Record<string, unknown>[]> {
    const room = await this.rooms.findOne({ where: { userId: user.id } });
    if (!room?.members) return [];
    const { jamiIds } = await this.people.resolve(room.members);
    const added = Math.floor(room.membersChangedAt.getTime() / 1000);
    return jamiIds.map((uri) => ({ uri, added, confirmed: true }));
  }

  /** POST /api/rooms/host/status, from the room's own device (DEVICE token). */
  async recordHostReport(user: User, deviceId: string | null, dto: HostStatusReportDto): Promise<void> {
    if (user.kind !== 'room' || !deviceId) {
      throw new AppError(ErrorCode.ROOM_HOST_ONLY, "Only a room's host device (DEVICE token) reports room status");
    }
    const room = await this.rooms.findOne({ where: { userId: user.id } });
    if (!room) throw new AppError(ErrorCode.ROOM_NOT_FOUND, `No room "${user.username}"`);
    const report: HostReport = {
      deviceId,
      daemonVersion: dto.daemonVersion,
      conference: dto.conference
        ? {
            id: dto.conference.id,
            participants: dto.conference.participants.map((p) => ({
              jamiId: p.jamiId,
              device: p.device,
              moderator: p.moderator,
              muted: p.muted,
            })),
          }
        : null,
    };
    await this.rooms.update({ id: room.id }, { hostReport: report, hostReportedAt: new Date() });
  }

  // ---- reads ----------------------------------------------------------------------------------------

  private async find(rawName: string): Promise<Room> {
    const name = rawName.trim().toLowerCase();
    const user =
      name.length <= 64
        ? await this.users.findOne({ where: { username: name, kind: 'room' }, select: { id: true } })
        : null;
    const room = user ? await this.rooms.findOne({ where: { userId: user.id }, relations: { user: true } }) : null;
    if (!room) throw new AppError(ErrorCode.ROOM_NOT_FOUND, `No room "${rawName.slice(0, 64)}"`);
    return room;
  }

  private async resolved(ref: PeopleRef): Promise<ResolvedPeopleDto> {
    const { jamiIds, pending } = await this.people.resolve(ref);
    const groups = ref.groups.length
      ? await this.groups.find({ where: { id: In(ref.groups) }, select: { id: true, name: true } })
      : [];
    return {
      users: ref.users,
      groups: groups.map((g) => ({ id: g.id, name: g.name })).sort((a, b) => a.name.localeCompare(b.name)),
      jamiIds,
      pending,
    };
  }

  private async toDto(room: Room): Promise<RoomDto> {
    const user = room.user ?? (await this.users.findOneOrFail({ where: { id: room.userId } }));
    const hostDevice = await this.devices.findOne({
      where: { userId: room.userId, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
    });
    const report =
      room.hostReport && hostDevice && room.hostReport.deviceId === hostDevice.deviceId ? room.hostReport : null;
    const names = report?.conference?.participants.length
      ? await this.users.find({
          where: { jamiId: In(report.conference.participants.map((p) => p.jamiId)) },
          select: { username: true, jamiId: true },
        })
      : [];
    const online = !!(
      report &&
      room.hostReportedAt &&
      Date.now() - room.hostReportedAt.getTime() < HOST_ONLINE_WINDOW_MS
    );
    return {
      name: user.username,
      displayName: room.displayName,
      jamiId: user.jamiId,
      moderators: await this.resolved(room.moderators),
      members: room.members ? await this.resolved(room.members) : null,
      allParticipantsModerators: room.allParticipantsModerators,
      host: {
        online,
        deviceId: hostDevice?.deviceId ?? null,
        deviceName: hostDevice?.name ?? null,
        daemonVersion: report?.daemonVersion ?? null,
        lastReportAt: report && room.hostReportedAt ? room.hostReportedAt.toISOString() : null,
        conference: report?.conference
          ? {
              id: report.conference.id,
              participants: report.conference.participants.map((p) => ({
                ...p,
                name: names.find((n) => n.jamiId === p.jamiId)?.username ?? null,
              })),
            }
          : null,
        secretExpiresAt: room.hostSecretExpiresAt?.toISOString() ?? null,
        secretUsed: room.hostSecretUsedAt !== null,
      },
      createdAt: room.createdAt.toISOString(),
      updatedAt: room.updatedAt.toISOString(),
    };
  }
}
