import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { IssuedCertificate } from '../ca/issued-certificate.entity';
import { User } from '../users/user.entity';

/**
 * A user's Jami account: the account key (escrowed, sealed with the master key) and its certificate, a
 * CA signed by the org CA that signs the user's device certificates. One live account per user.
 */
@Entity('accounts')
@Index('uq_accounts_user_live', ['userId'], { unique: true, where: 'revoked_at IS NULL' })
export class Account {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => User, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  /** SHA-1 of the account key's SubjectPublicKeyInfo (40 hex). */
  @Column({ name: 'jami_id', type: 'char', length: 40, unique: true })
  jamiId: string;

  @Column({ name: 'certificate_id', type: 'uuid' })
  certificateId: string;

  @ManyToOne(() => IssuedCertificate, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'certificate_id' })
  certificate?: Relation<IssuedCertificate>;

  @Column({ name: 'certificate_pem', type: 'text' })
  certificatePem: string;

  @Column({ name: 'public_key_pem', type: 'text' })
  publicKeyPem: string;

  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
