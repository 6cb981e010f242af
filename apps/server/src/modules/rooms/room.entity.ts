import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  OneToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Relation } from 'typeorm';
import type { PeopleRef } from '../groups/people.service';
import { User } from '../users/user.entity';

/** One participant of the conference in progress on the host, as the host reported it. */
export interface HostParticipant {
  /** Jami ID (40 hex) of the participant's account. */
  jamiId: string;
  /** Device ID the participant calls from, when the daemon reports it. */
  device: string;
  moderator: boolean;
  /** Muted by a moderator. */
  muted: boolean;
}

/** What the room's host (enclave-agent host-room) last reported. */
export interface HostReport {
  deviceId: string;
  daemonVersion: string;
  conference: { id: string; participants: HostParticipant[] } | null;
}

/**
 * A conference room: a managed account (the users row `userId`, kind 'room') hosted by one device in
 * rendezvous mode. Moderators and members are stored as normalised references (usernames, group ids) and
 * resolved to Jami IDs each time the host asks, so group changes and new enrollments reach it.
 */
@Entity('rooms')
export class Room {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @OneToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ name: 'display_name', type: 'varchar', length: 128 })
  displayName: string;

  @Column({ type: 'jsonb' })
  moderators: PeopleRef;

  /** Null: any device certified by the organization CA may call. */
  @Column({ type: 'jsonb', nullable: true })
  members: PeopleRef | null;

  /** When the member list last changed (the `added` time of the contacts the host receives). */
  @Column({ name: 'members_changed_at', type: 'timestamptz', default: () => 'now()' })
  membersChangedAt: Date;

  @Column({ name: 'all_participants_moderators', type: 'boolean', default: false })
  allParticipantsModerators: boolean;

  /** argon2id hash of the one-time host enrollment secret. */
  @Column({ name: 'host_secret_hash', type: 'text', nullable: true })
  hostSecretHash: string | null;

  @Column({ name: 'host_secret_expires_at', type: 'timestamptz', nullable: true })
  hostSecretExpiresAt: Date | null;

  @Column({ name: 'host_secret_used_at', type: 'timestamptz', nullable: true })
  hostSecretUsedAt: Date | null;

  @Column({ name: 'host_report', type: 'jsonb', nullable: true })
  hostReport: HostReport | null;

  @Column({ name: 'host_reported_at', type: 'timestamptz', nullable: true })
  hostReportedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
