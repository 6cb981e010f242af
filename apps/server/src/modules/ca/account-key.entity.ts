import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A pre-generated RSA-4096 account key waiting for a user's first enrollment (filled by the key-pool job). */
@Entity('account_key_pool')
export class PooledAccountKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'key_id', type: 'char', length: 40, unique: true })
  keyId: string;

  @Column({ name: 'public_key_pem', type: 'text' })
  publicKeyPem: string;

  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
