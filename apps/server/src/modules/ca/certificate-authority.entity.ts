import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The organization's CAs. Exactly one row is active (issues new certificates). After a rotation the
 * previous CA is still served, cross-signed, until `overlapUntil` or an explicit retirement (`retiredAt`).
 * Private keys are sealed with the master key.
 */
@Entity('certificate_authorities')
@Index('uq_certificate_authorities_active', ['active'], { unique: true, where: 'active' })
export class CertificateAuthority {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** SHA-1 of the CA's SubjectPublicKeyInfo (40 hex): the issuer id in CRL URLs. */
  @Column({ name: 'key_id', type: 'char', length: 40, unique: true })
  keyId: string;

  @Column({ type: 'text' })
  subject: string;

  @Column({ type: 'text' })
  algorithm: string;

  @Column({ name: 'certificate_pem', type: 'text' })
  certificatePem: string;

  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed: string;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter: Date;

  @Column({ type: 'boolean', default: false })
  imported: boolean;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** Previous CA during a rotation: when it retires automatically. */
  @Column({ name: 'overlap_until', type: 'timestamptz', nullable: true })
  overlapUntil: Date | null;

  /** No longer served in /api/ca; its CRL and OCSP answers stay available. */
  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
