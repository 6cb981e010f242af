import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The latest signed CRL of each issuer (the org CA or an account), regenerated on revocation and expiry. */
@Entity('crls')
export class Crl {
  @PrimaryColumn({ name: 'issuer_key_id', type: 'char', length: 40 })
  issuerKeyId: string;

  @Column({ name: 'crl_number', type: 'bigint' })
  crlNumber: string;

  @Column({ name: 'this_update', type: 'timestamptz' })
  thisUpdate: Date;

  @Column({ name: 'next_update', type: 'timestamptz' })
  nextUpdate: Date;

  @Column({ name: 'crl_der', type: 'bytea' })
  crlDer: Buffer;
}
