import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type UserSource = 'local' | 'ldap' | 'ad';
/** `deleted`: a tombstone; the row keeps the username and Jami ID reserved until an owner releases it. */
export type UserStatus = 'active' | 'suspended' | 'deleted';

/** Prefix of the placeholder username a released tombstone gets (never a valid username: `~` is refused). */
export const RELEASED_NAME_PREFIX = '~';

/**
 * The admin search (`?search=`) matches this expression with ILIKE '%…%' through a pg_trgm GIN index, created
 * by migration (TypeORM cannot declare expression indexes; synchronize: false keeps it out of the diff).
 */
export const USER_SEARCH_EXPRESSION =
  "lower(username || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''))";
/** 'room': a conference room's managed account (rooms module); never logs in with a password. */
export type UserKind = 'user' | 'room';

@Entity('users')
@Index('ix_users_search_trgm', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Lower-cased, [a-z0-9_-]{3,32} (Jami's name rules). */
  @Column({ type: 'varchar', length: 32, unique: true })
  username: string;

  /** Null for directory users, who authenticate against the directory. */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash: string | null;

  @Column({ name: 'first_name', type: 'varchar', length: 128, nullable: true })
  firstName: string | null;

  @Column({ name: 'last_name', type: 'varchar', length: 128, nullable: true })
  lastName: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 8, default: 'local' })
  source: UserSource;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: UserStatus;

  /** Stable directory id (entryUUID, or objectGUID as hex): renames in the directory keep the user. */
  @Column({ name: 'external_id', type: 'varchar', length: 64, nullable: true, unique: true })
  externalId: string | null;

  @Column({ type: 'text', nullable: true })
  dn: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  phone: string | null;

  @Column({ type: 'bytea', nullable: true, select: false })
  photo: Buffer | null;

  /** modifyTimestamp (LDAP) / uSNChanged (AD) of the last synced version. */
  @Column({ name: 'directory_version', type: 'varchar', length: 32, nullable: true })
  directoryVersion: string | null;

  /** Why the user is suspended: 'directory' (disabled or gone there), 'admin'. */
  @Column({ name: 'suspended_reason', type: 'varchar', length: 16, nullable: true })
  suspendedReason: string | null;

  /** The admin's reason for a suspension (free text, shown in the console). */
  @Column({ name: 'suspension_note', type: 'varchar', length: 256, nullable: true })
  suspensionNote: string | null;

  /** When an admin deleted the user (status `deleted`). */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
  // rooms: a room and the people share one namespace (names, Jami IDs); listings of people filter kind = 'user'.
  @Column({ type: 'varchar', length: 8, default: 'user' })
  kind: UserKind;

  /** Set once the account certificate is issued. */
  @Column({ name: 'jami_id', type: 'char', length: 40, nullable: true, unique: true })
  jamiId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
