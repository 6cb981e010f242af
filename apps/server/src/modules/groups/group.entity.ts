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
import { User } from '../users/user.entity';

/** An Enclave group: local, or mirrored from a directory group (membership drives policy). */
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

  /** Jami daemon keys applied to members' devices, over the organization's default policy. */
  @Column({ type: 'jsonb', default: {} })
  policy: Record<string, string | number | boolean>;

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
