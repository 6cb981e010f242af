import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { User } from '../users/user.entity';
import { USERNAME_PATTERN } from '../users/username';
import { Group, GroupMember } from './group.entity';

/** People named by an admin: usernames, and groups by id or name (a group stands for its members). */
export interface PeopleRef {
  users: string[];
  groups: string[];
}

export interface ResolvedPeople {
  /** Jami IDs (40 hex) of the active people with an account, sorted, without duplicates. */
  jamiIds: string[];
  /** Usernames of active people who have no account yet (they are added once they enroll). */
  pending: string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns people references (users and groups) into Jami IDs, following group membership and enrollments as
 * they are now. Used for default moderators (policies) and room moderators and members.
 */
@Injectable()
export class PeopleService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    @InjectRepository(GroupMember) private readonly members: Repository<GroupMember>,
  ) {}

  /**
   * Checks that every user and group exists; throws VALIDATION_FAILED naming `field` and the unknown ones.
   * Returns the reference normalised (lower-cased usernames, group ids), deduplicated.
   */
  async normalize(ref: PeopleRef, field: string): Promise<PeopleRef> {
    const usernames = [...new Set(ref.users.map((u) => u.trim().toLowerCase()))];
    const found = await this.usersByName(usernames);
    const unknownUsers = usernames.filter((u) => !found.some((f) => f.username === u));
    const groupIds: string[] = [];
    const unknownGroups: string[] = [];
    for (const g of [...new Set(ref.groups.map((x) => x.trim()))]) {
      if (!g || g.length > 256 || CONTROL.test(g)) {
        unknownGroups.push(g);
        continue;
      }
      const group = await this.groups.findOne({ where: UUID.test(g) ? { id: g } : { name: g }, select: { id: true } });
      if (group) groupIds.push(group.id);
      else unknownGroups.push(g);
    }
    if (unknownUsers.length || unknownGroups.length) {
      const parts = [
        unknownUsers.length ? `no user ${unknownUsers.map((u) => `"${u.slice(0, 64)}"`).join(', ')}` : '',
        unknownGroups.length ? `no group ${unknownGroups.map((g) => `"${g.slice(0, 64)}"`).join(', ')}` : '',
      ].filter(Boolean);
      throw new AppError(ErrorCode.VALIDATION_FAILED, `${field}: ${parts.join('; ')}`, {
        field,
        unknownUsers,
        unknownGroups,
      });
    }
    return { users: usernames.sort(), groups: [...new Set(groupIds)].sort() };
  }

  /** The users with these usernames (lower-cased); names that are not a valid username are never found. */
  async usersByName(usernames: string[]): Promise<Pick<User, 'id' | 'username' | 'status' | 'jamiId'>[]> {
    const names = [...new Set(usernames.map((u) => u.trim().toLowerCase()))].filter((u) => USERNAME_PATTERN.test(u));
    if (!names.length) return [];
    return this.users.find({
      where: { username: In(names) },
      select: { id: true, username: true, status: true, jamiId: true },
    });
  }

  /** One user by username, or null. */
  async userByName(username: string): Promise<Pick<User, 'id' | 'username' | 'status' | 'jamiId'> | null> {
    return (await this.usersByName([username]))[0] ?? null;
  }

  /** The Jami IDs the reference stands for now (suspended users are left out), and who has none yet. */
  async resolve(ref: PeopleRef): Promise<ResolvedPeople> {
    const ids = new Set<string>();
    if (ref.groups.length) {
      const rows = await this.members.find({ where: { groupId: In(ref.groups) }, select: { userId: true } });
      rows.forEach((r) => ids.add(r.userId));
    }
    if (!ref.users.length && !ids.size) return { jamiIds: [], pending: [] };
    const people = await this.users.find({
      where: [
        ...(ref.users.length ? [{ username: In(ref.users.map((u) => u.toLowerCase())) }] : []),
        ...(ids.size ? [{ id: In([...ids]) }] : []),
      ],
      select: { id: true, username: true, status: true, jamiId: true },
    });
    const active = people.filter((p) => p.status === 'active');
    return {
      jamiIds: [...new Set(active.flatMap((p) => (p.jamiId ? [p.jamiId] : [])))].sort(),
      pending: active
        .filter((p) => !p.jamiId)
        .map((p) => p.username)
        .sort(),
    };
  }
}
