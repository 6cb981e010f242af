import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { CA_SETTINGS_LIMITS } from './ca-settings.service';

export const CERTIFICATE_TYPES = ['account', 'device', 'server'] as const;
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];
export const CERTIFICATE_STATUSES = ['valid', 'revoked', 'superseded', 'expired'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export class CaCertificateDto {
  @ApiProperty({ enum: ['active', 'previous', 'retired'] })
  status: 'active' | 'previous' | 'retired';

  @ApiProperty({ description: 'SHA-1 key id (40 hex): the issuer id in CRL URLs' })
  keyId: string;

  @ApiProperty({ example: 'CN=Example Corp CA, O=Example Corp' })
  subject: string;

  @ApiProperty({ example: 'RSA-4096', description: 'RSA-<bits>, P-256, P-384 or P-521' })
  keyAlgorithm: string;

  @ApiProperty({ example: 4096, description: 'RSA modulus bits, or the curve size for ECDSA' })
  keySize: number;

  @ApiProperty({ example: 'AB:CD:…', description: 'SHA-1 fingerprint of the certificate (DER)' })
  sha1Fingerprint: string;

  @ApiProperty({ description: 'SHA-256 fingerprint of the certificate (DER)' })
  sha256Fingerprint: string;

  @ApiProperty()
  notBefore: string;

  @ApiProperty()
  notAfter: string;

  @ApiProperty()
  imported: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'Previous CA: when it retires automatically' })
  overlapUntil: string | null;

  @ApiProperty({ nullable: true, type: String })
  retiredAt: string | null;

  @ApiProperty()
  certificatePem: string;
}

export class CrossCertificateDto {
  @ApiProperty({ description: 'Key id of the CA whose key this certificate certifies' })
  subjectKeyId: string;

  @ApiProperty({ description: 'Key id of the CA that signed it' })
  issuerKeyId: string;

  @ApiProperty()
  serialNumber: string;

  @ApiProperty()
  notAfter: string;

  @ApiProperty()
  certificatePem: string;
}

export class CaCountsDto {
  @ApiProperty({ description: 'Current (not revoked, not superseded, not expired) account certificates' })
  accountCertificates: number;

  @ApiProperty({ description: 'Current device certificates' })
  deviceCertificates: number;

  @ApiProperty({ description: 'Revoked account and device certificates' })
  revoked: number;

  @ApiProperty({ description: 'Current account and device certificates expiring within expiringWithinDays' })
  expiringSoon: number;

  @ApiProperty({ description: 'The renewal window (renewBeforeDays)' })
  expiringWithinDays: number;
}

export class CaOverviewResponseDto {
  @ApiProperty({ type: CaCertificateDto, description: 'Issues every new certificate' })
  active: CaCertificateDto;

  @ApiProperty({ type: CaCertificateDto, nullable: true, description: 'During a rotation: the CA being replaced' })
  previous: CaCertificateDto | null;

  @ApiProperty({ type: [CrossCertificateDto], description: 'During a rotation: each CA certified by the other' })
  crossCertificates: CrossCertificateDto[];

  @ApiProperty({ type: CaCountsDto })
  counts: CaCountsDto;
}

export class ListCertificatesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: CERTIFICATE_TYPES })
  @IsOptional()
  @IsIn(CERTIFICATE_TYPES)
  type?: CertificateType;

  @ApiPropertyOptional({ minimum: 0, maximum: 36500, description: 'Valid now and expiring within this many days' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(36_500)
  expiringWithinDays?: number;

  @ApiPropertyOptional({ enum: CERTIFICATE_STATUSES })
  @IsOptional()
  @IsIn(CERTIFICATE_STATUSES)
  status?: CertificateStatus;
}

export class CertificateResponseDto {
  @ApiProperty()
  id: string;

  @ApiProperty({ enum: ['account', 'device', 'server', 'ca'] })
  type: string;

  @ApiProperty({ description: 'Lowercase hex' })
  serialNumber: string;

  @ApiProperty()
  subject: string;

  @ApiProperty({ description: 'Key id of the issuer (the CA, or the account for device certificates)' })
  issuerKeyId: string;

  @ApiProperty({ description: 'SHA-1 key id of the certified key (the Jami ID for accounts)' })
  keyId: string;

  @ApiProperty()
  notBefore: string;

  @ApiProperty()
  notAfter: string;

  @ApiProperty({ enum: CERTIFICATE_STATUSES })
  status: CertificateStatus;

  @ApiProperty({ nullable: true, type: String })
  revokedAt: string | null;

  @ApiProperty({ nullable: true, type: String })
  revocationReason: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The certificate that replaced this one (same key)' })
  supersededById: string | null;
}

export class CertificateListResponseDto {
  @ApiProperty({ type: [CertificateResponseDto], description: 'Ordered by notAfter, then id' })
  items: CertificateResponseDto[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor: string | null;
}

const { accountCertDays, deviceCertDays, crlHours, renewBeforeDays } = CA_SETTINGS_LIMITS;

export class CaSettingsDto {
  @ApiProperty({ minimum: accountCertDays.min, maximum: accountCertDays.max })
  accountCertDays: number;

  @ApiProperty({ minimum: deviceCertDays.min, maximum: deviceCertDays.max })
  deviceCertDays: number;

  @ApiProperty({ minimum: crlHours.min, maximum: crlHours.max, description: 'CRL validity (nextUpdate)' })
  crlHours: number;

  @ApiProperty({ minimum: renewBeforeDays.min, maximum: renewBeforeDays.max, description: 'Renewal window' })
  renewBeforeDays: number;
}

export class UpdateCaSettingsDto {
  @ApiPropertyOptional({
    minimum: accountCertDays.min,
    maximum: accountCertDays.max,
    description: 'Must not outlive the active CA',
  })
  @IsOptional()
  @IsInt()
  @Min(accountCertDays.min)
  @Max(accountCertDays.max)
  accountCertDays?: number;

  @ApiPropertyOptional({
    minimum: deviceCertDays.min,
    maximum: deviceCertDays.max,
    description: 'Must not outlive the active CA nor exceed accountCertDays',
  })
  @IsOptional()
  @IsInt()
  @Min(deviceCertDays.min)
  @Max(deviceCertDays.max)
  deviceCertDays?: number;

  @ApiPropertyOptional({ minimum: crlHours.min, maximum: crlHours.max })
  @IsOptional()
  @IsInt()
  @Min(crlHours.min)
  @Max(crlHours.max)
  crlHours?: number;

  @ApiPropertyOptional({
    minimum: renewBeforeDays.min,
    maximum: renewBeforeDays.max,
    description: 'Shorter than both lifetimes',
  })
  @IsOptional()
  @IsInt()
  @Min(renewBeforeDays.min)
  @Max(renewBeforeDays.max)
  renewBeforeDays?: number;
}

export class RunRenewalsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 3650, description: 'Default: renewBeforeDays' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  withinDays?: number;
}

export class RenewedCertificateDto {
  @ApiProperty({ enum: ['account', 'device'] })
  type: 'account' | 'device';

  @ApiProperty({ description: 'The superseded certificate' })
  previousId: string;

  @ApiProperty({ description: 'The new certificate (same key, new serial and validity)' })
  id: string;

  @ApiProperty()
  subject: string;

  @ApiProperty()
  notAfter: string;
}

export class SkippedRenewalDto {
  @ApiProperty()
  id: string;

  @ApiProperty()
  reason: string;
}

export class RenewalReportDto {
  @ApiProperty()
  withinDays: number;

  @ApiProperty()
  accounts: number;

  @ApiProperty()
  devices: number;

  @ApiProperty({ type: [RenewedCertificateDto] })
  renewed: RenewedCertificateDto[];

  @ApiProperty({ type: [SkippedRenewalDto], description: 'Due but not renewable (e.g. the issuer expires first)' })
  skipped: SkippedRenewalDto[];
}

/** How a CA is obtained, at setup and at a rotation: generated here, or imported from PEM. */
export class CaSourceDto {
  @ApiProperty({ enum: ['generate', 'import'] })
  @IsIn(['generate', 'import'])
  mode: 'generate' | 'import';

  @ApiPropertyOptional({ description: 'import: PEM certificate' })
  @IsOptional()
  @IsString()
  @MaxLength(65536)
  certificatePem?: string;

  @ApiPropertyOptional({ description: 'import: PEM private key (PKCS#8, PKCS#1 or SEC1)' })
  @IsOptional()
  @IsString()
  @MaxLength(65536)
  privateKeyPem?: string;
}

export class RotateCaDto extends CaSourceDto {
  @ApiPropertyOptional({
    enum: ['RSA-4096', 'P-256'],
    description: 'generate: key algorithm (default ENCLAVE_CA_ALGORITHM)',
  })
  @IsOptional()
  @IsIn(['RSA-4096', 'P-256'])
  algorithm?: 'RSA-4096' | 'P-256';

  @ApiPropertyOptional({ description: 'generate: common name (default: the current one, dated); must differ from it' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  commonName?: string;

  @ApiProperty({ minimum: 1, maximum: 365, description: 'How long both CAs are served and cross-signed' })
  @IsInt()
  @Min(1)
  @Max(365)
  overlapDays: number;
}

export class RotationResponseDto {
  @ApiProperty({ type: CaOverviewResponseDto })
  ca: CaOverviewResponseDto;

  @ApiProperty({ description: 'Account certificates reissued under the new CA' })
  reissuedAccounts: number;
}

export class RetirementResponseDto {
  @ApiProperty({ type: CaCertificateDto })
  retired: CaCertificateDto;

  @ApiProperty({ description: 'Cross and superseded account certificates of the retired CA now revoked' })
  revoked: number;

  @ApiProperty({ description: 'Account certificates still under the retired CA, reissued first' })
  reissuedAccounts: number;
}
