import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PooledAccountKey } from './account-key.entity';
import { CaController } from './ca.controller';
import { CaService } from './ca.service';
import { CertificateAuthority } from './certificate-authority.entity';
import { Crl } from './crl.entity';
import { IssuedCertificate } from './issued-certificate.entity';
import { KeyPoolService } from './key-pool.service';
import { ServerCertificate } from './server-certificate.entity';
import { TlsService } from './tls.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([CertificateAuthority, IssuedCertificate, Crl, ServerCertificate, PooledAccountKey]),
  ],
  controllers: [CaController],
  providers: [CaService, TlsService, KeyPoolService],
  exports: [CaService, TlsService, KeyPoolService],
})
export class CaModule {}
