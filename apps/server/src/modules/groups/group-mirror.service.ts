import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../../database/transaction-runner';
import { UsersRepository } from '../users/users.repository';
import { Group, GroupMember } from './group.entity';

/** A directory group as the directory sync read it. */
export interface DirectoryGroup {
  externalId: string;
  name: string;
  dn: string;
  /** Member DNs as the directory lists them. */
  members: string[];
}

/**
 * Mirrors directory groups (by stable id) and their membership (by member DN) into groups and
 * group_members, in one transaction. A name already taken by another group gets the source as a suffix.
 */
@Injectable()
export class GroupMirrorService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly users: UsersRepository,
  ) {}

  mirror(source: 'ldap' | 'ad', groups: DirectoryGroup[]): Promise<void> {
    return this.tx.run(async (m) => {
      for (const g of groups) await this.mirrorOne(m, source, g);
    });
  }

  private async mirrorOne(m: EntityManager, source: 'ldap' | 'ad', g: DirectoryGroup): Promise<void> {
    const existing = await m.findOne(Group, { where: { externalId: g.externalId } });
    const clash = await m.findOne(Group, { where: { name: g.name } });
    const name = clash && clash.id !== existing?.id ? `${g.name} (${source})` : g.name;
    const group = existing
      ? (await m.update(Group, { id: existing.id }, { name, dn: g.dn }), existing)
      : await m.save(m.create(Group, { name, source, externalId: g.externalId, dn: g.dn }));
    await m.delete(GroupMember, { groupId: group.id });
    const userIds = await this.users.idsByDn(
      g.members.map((d) => d.toLowerCase()),
      m,
    );
    if (userIds.length) {
      await m
        .createQueryBuilder()
        .insert()
        .into(GroupMember)
        .values(userIds.map((userId) => ({ groupId: group.id, userId })))
        .orIgnore()
        .execute();
    }
  }
}
