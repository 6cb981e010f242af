import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { Relation } from 'typeorm';

/** 'ca': a cross certificate (one organization CA's key certified by another during a rotation). */
export type CertificateKind = 'server' | 'account' | 'device' | 'ca';

/** Every certificate Enclave signs, for CRLs and OCSP. */
@Entity('issued_certificates')
@Index('uq_issued_certificates_issuer_serial', ['issuerKeyId', 'serialNumber'], { unique: true })
@Index('ix_issued_certificates_kind_not_after', ['kind', 'notAfter'])
export class IssuedCertificate {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'issuer_key_id', type: 'char', length: 40 })
  issuerKeyId: string;

  @Column({ name: 'serial_number', type: 'varchar', length: 64 })
  serialNumber: string;

  @Column({ type: 'varchar', length: 16 })
  kind: CertificateKind;

  @Column({ type: 'text' })
  subject: string;

  /** SHA-1 key id of the certified public key (Jami ID for accounts). */
  @Index('ix_issued_certificates_key_id')
  @Column({ name: 'key_id', type: 'char', length: 40 })
  keyId: string;

  /** OCSP issuerKeyHash of the certified key (SHA-1 / SHA-256 of the subjectPublicKey bits), to find issuers. */
  @Index('ix_issued_certificates_key_hash_sha1')
  @Column({ name: 'key_hash_sha1', type: 'char', length: 40 })
  keyHashSha1: string;

  @Index('ix_issued_certificates_key_hash_sha256')
  @Column({ name: 'key_hash_sha256', type: 'char', length: 64 })
  keyHashSha256: string;

  @Column({ name: 'certificate_pem', type: 'text' })
  certificatePem: string;

  @Column({ name: 'not_before', type: 'timestamptz' })
  notBefore: Date;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revocation_reason', type: 'varchar', length: 32, nullable: true })
  revocationReason: string | null;

  /** Renewal / CA rotation: the certificate that replaced this one (same key); superseded is not revoked. */
  @Column({ name: 'superseded_by_id', type: 'uuid', nullable: true })
  supersededById: string | null;

  @ManyToOne(() => IssuedCertificate, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'superseded_by_id' })
  supersededBy?: Relation<IssuedCertificate>;

  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
