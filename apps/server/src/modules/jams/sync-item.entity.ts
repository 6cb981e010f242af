import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { User } from '../users/user.entity';

export type SyncKind = 'contact' | 'conversation' | 'conversationRequest';

/** A user's synced contact, conversation or conversation request, stored as the client sent it. */
@Entity('sync_items')
export class SyncItem {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @PrimaryColumn({ type: 'varchar', length: 24 })
  kind: SyncKind;

  @PrimaryColumn({ name: 'item_key', type: 'varchar', length: 128 })
  itemKey: string;

  @Column({ type: 'jsonb' })
  data: Record<string, unknown>;

  /** Most recent event of the item (ms): the newer entry wins a merge. */
  @Column({ name: 'updated_ms', type: 'bigint' })
  updatedMs: string;
}
