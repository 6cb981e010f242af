import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { Policy } from '../policy/policy.entity';
import { User } from '../users/user.entity';

/**
 * An Enclave group: local (members managed by admins), or mirrored from a directory group (members follow the
 * directory). A group may carry a policy, applied to its members over the organization default in ascending
 * priority (ties: group name).
 */
@Entity('groups')
export class Group {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 256, unique: true })
  name: string;

  @Column({ type: 'varchar', length: 8, default: 'local' })
  source: 'local' | 'ldap' | 'ad';

  /** entryUUID / objectGUID of the directory group. */
  @Column({ name: 'external_id', type: 'varchar', length: 64, nullable: true, unique: true })
  externalId: string | null;

  @Column({ type: 'text', nullable: true })
  dn: string | null;

  /** The policy applied to members' devices (none: null). A policy cannot be deleted while assigned. */
  @Column({ name: 'policy_id', type: 'uuid', nullable: true })
  policyId: string | null;

  @ManyToOne(() => Policy, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'policy_id' })
  policy?: Relation<Policy> | null;

  /** Lower priorities apply first; a higher one overrides them. */
  @Column({ type: 'int', default: 0 })
  priority: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

@Entity('group_members')
export class GroupMember {
  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: Relation<Group>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;
}
