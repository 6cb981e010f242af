import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AuditService } from '../audit/audit.service';
import { Group, GroupMember } from './group.entity';
import {
  CreateGroupDto,
  GroupDetailResponseDto,
  GroupMemberDto,
  GroupResponseDto,
  UpdateGroupDto,
  UpdateGroupMembersDto,
} from './groups.dto';
import { PeopleService } from './people.service';

/** A group's policy assignment, as the policy layering reads it. */
export interface GroupPolicyAssignment {
  groupId: string;
  groupName: string;
  policyId: string;
  priority: number;
}

const pgCode = (err: unknown) =>
  err instanceof QueryFailedError ? (err.driverError as { code?: string } | undefined)?.code : undefined;

type GroupRow = {
  id: string;
  name: string;
  source: string;
  policy_id: string | null;
  policy_name: string | null;
  priority: number;
  member_count: number;
  created_at: Date;
};

const GROUP_SELECT = `SELECT g.id, g.name, g.source, g.policy_id, p.name AS policy_name, g.priority, g.created_at,
  (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS member_count
  FROM groups g LEFT JOIN policies p ON p.id = g.policy_id`;

function toDto(r: GroupRow): GroupResponseDto {
  return {
    id: r.id,
    name: r.name,
    source: r.source,
    memberCount: r.member_count,
    policyId: r.policy_id,
    policyName: r.policy_name,
    priority: r.priority,
    createdAt: r.created_at,
  };
}

/** Groups: local ones managed here, directory ones mirrored by the directory sync (membership read-only). */
@Injectable()
export class GroupsService {
  constructor(
    @InjectRepository(Group) private readonly groups: Repository<Group>,
    private readonly people: PeopleService,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<GroupResponseDto[]> {
    const rows: GroupRow[] = await this.groups.query(`${GROUP_SELECT} ORDER BY g.name`);
    return rows.map(toDto);
  }

  async get(id: string, manager?: EntityManager): Promise<GroupDetailResponseDto> {
    const m = manager ?? this.groups.manager;
    const [row]: GroupRow[] = await m.query(`${GROUP_SELECT} WHERE g.id = $1`, [id]);
    if (!row) throw new AppError(ErrorCode.GROUP_NOT_FOUND, `No group ${id}`, { id });
    const members: {
      username: string;
      first_name: string | null;
      last_name: string | null;
      status: string;
      jami_id: string | null;
    }[] = await m.query(
      `SELECT u.username, u.first_name, u.last_name, u.status, u.jami_id FROM group_members gm
         JOIN users u ON u.id = gm.user_id WHERE gm.group_id = $1 ORDER BY u.username`,
      [id],
    );
    return {
      ...toDto(row),
      members: members.map((u): GroupMemberDto => ({
        username: u.username,
        firstName: u.first_name,
        lastName: u.last_name,
        status: u.status,
        jamiId: u.jami_id,
      })),
    };
  }

  async create(dto: CreateGroupDto, actor: string): Promise<GroupDetailResponseDto> {
    const name = dto.name.trim();
    if (!name) throw new AppError(ErrorCode.VALIDATION_FAILED, 'name must not be blank', { field: 'name' });
    try {
      return await this.groups.manager.transaction(async (m) => {
        const group = await m.save(m.create(Group, { name, source: 'local' }));
        const after = await this.get(group.id, m);
        await this.audit.record(
          { actor, action: 'group.created', target: name, before: null, after: snapshot(after) },
          m,
        );
        return after;
      });
    } catch (err) {
      if (pgCode(err) === '23505') {
        throw new AppError(ErrorCode.GROUP_EXISTS, `A group named "${name}" already exists`, { field: 'name' });
      }
      throw err;
    }
  }

  /** Assigns (or with policyId null, unassigns) the group's policy and sets its priority. */
  async update(id: string, dto: UpdateGroupDto, actor: string): Promise<GroupDetailResponseDto> {
    try {
      return await this.groups.manager.transaction(async (m) => {
        await this.lock(m, id);
        const before = await this.get(id, m);
        const changes: Partial<Group> = {};
        if (dto.policyId !== undefined) changes.policyId = dto.policyId;
        if (dto.priority !== undefined) changes.priority = dto.priority;
        if (Object.keys(changes).length) await m.update(Group, { id }, changes);
        const after = await this.get(id, m);
        await this.audit.record(
          { actor, action: 'group.updated', target: before.name, before: snapshot(before), after: snapshot(after) },
          m,
        );
        return after;
      });
    } catch (err) {
      if (pgCode(err) === '23503') {
        throw new AppError(ErrorCode.VALIDATION_FAILED, `policyId: no policy ${dto.policyId}`, { field: 'policyId' });
      }
      throw err;
    }
  }

  /** Adds and removes members of a local group; directory groups follow the directory (409). */
  async updateMembers(id: string, dto: UpdateGroupMembersDto, actor: string): Promise<GroupDetailResponseDto> {
    const add = [...new Set((dto.add ?? []).map((u) => u.trim().toLowerCase()))];
    const remove = [...new Set((dto.remove ?? []).map((u) => u.trim().toLowerCase()))];
    const both = add.filter((u) => remove.includes(u));
    if (both.length) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, `add and remove both name ${both.join(', ').slice(0, 200)}`, {
        field: 'add',
        usernames: both,
      });
    }
    const found = await this.people.usersByName([...add, ...remove]);
    const idOf = new Map(found.map((u) => [u.username, u.id]));
    for (const [field, list] of [
      ['add', add],
      ['remove', remove],
    ] as const) {
      const unknown = list.filter((u) => !idOf.has(u));
      if (unknown.length) {
        throw new AppError(
          ErrorCode.VALIDATION_FAILED,
          `${field}: no user ${unknown.map((u) => JSON.stringify(u.slice(0, 64))).join(', ')}`,
          { field, unknownUsers: unknown },
        );
      }
    }
    return this.groups.manager.transaction(async (m) => {
      const group = await this.lock(m, id);
      if (group.source !== 'local') {
        throw new AppError(
          ErrorCode.GROUP_READ_ONLY,
          `Group "${group.name}" is mirrored from the directory (${group.source}): change its members there`,
          { id, source: group.source },
        );
      }
      const before = await this.get(id, m);
      if (add.length) {
        await m
          .createQueryBuilder()
          .insert()
          .into(GroupMember)
          .values(add.map((u) => ({ groupId: id, userId: idOf.get(u) as string })))
          .orIgnore()
          .execute();
      }
      if (remove.length) {
        await m
          .createQueryBuilder()
          .delete()
          .from(GroupMember)
          .where('group_id = :id AND user_id IN (:...ids)', { id, ids: remove.map((u) => idOf.get(u)) })
          .execute();
      }
      const after = await this.get(id, m);
      await this.audit.record(
        {
          actor,
          action: 'group.members_changed',
          target: group.name,
          details: { add, remove },
          before: { members: before.members.map((u) => u.username) },
          after: { members: after.members.map((u) => u.username) },
        },
        m,
      );
      return after;
    });
  }

  /**
   * Deletes a local group (its policy assignment goes with it). Refused (409) for directory groups, which follow
   * the directory, and while a policy names the group as default moderators.
   */
  async delete(id: string, actor: string): Promise<void> {
    await this.groups.manager.transaction(async (m) => {
      const group = await this.lock(m, id);
      if (group.source !== 'local') {
        throw new AppError(
          ErrorCode.GROUP_READ_ONLY,
          `Group "${group.name}" is mirrored from the directory (${group.source}): it goes when the directory drops it`,
          { id, source: group.source },
        );
      }
      const namedIn: { name: string }[] = await m.query(
        `SELECT name FROM policies WHERE settings->'Account.defaultModerators'->'groups' ? $1
         UNION ALL SELECT 'override of ' || u.username FROM user_policies p JOIN users u ON u.id = p.user_id
         WHERE p.settings->'Account.defaultModerators'->'groups' ? $1 ORDER BY 1`,
        [id],
      );
      if (namedIn.length) {
        throw new AppError(
          ErrorCode.GROUP_IN_USE,
          `Group "${group.name}" is named as default moderators in ${namedIn.map((p) => `"${p.name}"`).join(', ')}: remove it there first`,
          { id, policies: namedIn.map((p) => p.name) },
        );
      }
      const before = await this.get(id, m);
      await m.delete(Group, { id });
      await this.audit.record(
        { actor, action: 'group.deleted', target: group.name, before: snapshot(before), after: null },
        m,
      );
    });
  }

  /** The user's groups that carry a policy, in the order their policies apply (priority, then name). */
  async policyAssignmentsOf(userId: string): Promise<GroupPolicyAssignment[]> {
    const rows = await this.groups
      .createQueryBuilder('g')
      .innerJoin(GroupMember, 'm', 'm.group_id = g.id')
      .where('m.user_id = :userId AND g.policy_id IS NOT NULL', { userId })
      .orderBy('g.priority', 'ASC')
      .addOrderBy('g.name', 'ASC')
      .select(['g.id', 'g.name', 'g.policyId', 'g.priority'])
      .getMany();
    return rows.map((g) => ({
      groupId: g.id,
      groupName: g.name,
      policyId: g.policyId as string,
      priority: g.priority,
    }));
  }

  /** The groups a policy is assigned to. */
  async assignedTo(
    policyId: string,
    manager?: EntityManager,
  ): Promise<{ id: string; name: string; priority: number }[]> {
    const repo = manager ? manager.getRepository(Group) : this.groups;
    const rows = await repo.find({ where: { policyId }, order: { priority: 'ASC', name: 'ASC' } });
    return rows.map((g) => ({ id: g.id, name: g.name, priority: g.priority }));
  }

  private async lock(m: EntityManager, id: string): Promise<Group> {
    const group = await m.findOne(Group, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!group) throw new AppError(ErrorCode.GROUP_NOT_FOUND, `No group ${id}`, { id });
    return group;
  }
}

/** The audited state of a group. */
function snapshot(g: GroupDetailResponseDto): Record<string, unknown> {
  return {
    name: g.name,
    source: g.source,
    policyId: g.policyId,
    priority: g.priority,
    members: g.members.map((u) => u.username),
  };
}
