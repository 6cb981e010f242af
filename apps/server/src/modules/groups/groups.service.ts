import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AuditService } from '../audit/audit.service';
import { policyProblems } from '../policy/daemon-keys';
import { Group } from './group.entity';
import { GroupDto } from './groups.dto';

@Injectable()
export class GroupsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<GroupDto[]> {
    const rows: (Group & { members: number })[] = await this.dataSource.query(
      `SELECT g.id, g.name, g.source, g.policy, (SELECT count(*)::int FROM group_members m WHERE m.group_id = g.id) AS members
       FROM groups g ORDER BY g.name`,
    );
    return rows.map((g) => ({ id: g.id, name: g.name, source: g.source, members: g.members, policy: g.policy }));
  }

  async setPolicy(id: string, policy: unknown, actor: string): Promise<GroupDto> {
    const problems = policyProblems(policy);
    if (problems.length) throw new AppError(ErrorCode.VALIDATION_FAILED, problems.join('; '), { problems });
    const group = /^[0-9a-f-]{36}$/.test(id)
      ? await this.dataSource.getRepository(Group).findOne({ where: { id } })
      : null;
    if (!group) throw new AppError(ErrorCode.NOT_FOUND, `No group ${id.slice(0, 40)}`);
    await this.dataSource.transaction(async (m) => {
      await m.update(Group, { id }, { policy: policy as Group['policy'] });
      await this.audit.record({ actor, action: 'group.policy_changed', target: group.name, details: { policy } }, m);
    });
    return (await this.list()).find((g) => g.id === id) as GroupDto;
  }
}
