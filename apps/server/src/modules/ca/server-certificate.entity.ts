import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The HTTPS certificate the server issued itself from the org CA (unless ENCLAVE_TLS_CERT is set). */
@Entity('server_certificates')
export class ServerCertificate {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text', array: true })
  hostnames: string[];

  @Column({ name: 'ca_key_id', type: 'char', length: 40 })
  caKeyId: string;

  @Column({ name: 'certificate_pem', type: 'text' })
  certificatePem: string;

  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed: string;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
