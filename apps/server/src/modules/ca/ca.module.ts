import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PooledAccountKey } from './account-key.entity';
import { CaAdminController } from './ca-admin.controller';
import { CaOperationsService } from './ca-operations.service';
import { CaSettings } from './ca-settings.entity';
import { CaSettingsService } from './ca-settings.service';
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
    TypeOrmModule.forFeature([
      CertificateAuthority,
      IssuedCertificate,
      Crl,
      ServerCertificate,
      PooledAccountKey,
      CaSettings,
    ]),
  ],
  controllers: [CaController, CaAdminController],
  providers: [CaService, CaSettingsService, CaOperationsService, TlsService, KeyPoolService],
  exports: [CaService, CaSettingsService, CaOperationsService, TlsService, KeyPoolService],
})
export class CaModule {}
