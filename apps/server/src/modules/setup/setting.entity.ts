import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Settings an admin edits (organization name, policies later): key → JSON value. */
@Entity('settings')
export class Setting {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  key: string;

  @Column({ type: 'jsonb' })
  value: unknown;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
