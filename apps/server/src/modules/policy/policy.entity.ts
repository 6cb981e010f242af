import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import { User } from '../users/user.entity';
import type { PolicySettings } from './daemon-keys';

/**
 * A named, versioned policy (JAMS calls them blueprints): Jami daemon settings that the organization default,
 * groups and user overrides apply to devices. Exactly one policy may be the organization default.
 */
@Entity('policies')
@Index('uq_policies_default', ['isDefault'], { unique: true, where: '"is_default"' })
export class Policy {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  name: string;

  /** 1 at creation, +1 at each save (every version is kept in policy_versions). */
  @Column({ type: 'int', default: 1 })
  version: number;

  @Column({ type: 'jsonb', default: {} })
  settings: PolicySettings;

  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** One saved version of a policy (the current one included). */
@Entity('policy_versions')
export class PolicyVersion {
  @PrimaryColumn({ name: 'policy_id', type: 'uuid' })
  policyId: string;

  @PrimaryColumn({ type: 'int' })
  version: number;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'jsonb' })
  settings: PolicySettings;

  /** 'admin:<username>' or 'system'. */
  @Column({ type: 'varchar', length: 100 })
  actor: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => Policy, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'policy_id' })
  policy?: Relation<Policy>;
}

/** A user's own settings, over the organization default and their groups' policies. */
@Entity('user_policies')
export class UserPolicy {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'jsonb' })
  settings: PolicySettings;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;
}

/** An uploaded image (logo, background) that `Account.uiCustomization` refers to; served publicly. */
@Entity('policy_logos')
export class PolicyLogo {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'content_type', type: 'varchar', length: 32 })
  contentType: string;

  @Column({ type: 'int' })
  size: number;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'bytea', select: false })
  data: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
