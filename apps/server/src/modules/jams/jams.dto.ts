import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class EnrollDeviceDto {
  @ApiProperty({ description: 'PKCS#10 CSR (PEM; "NEW CERTIFICATE REQUEST" accepted)' })
  @IsString()
  @MaxLength(16384)
  csr: string;

  @ApiPropertyOptional({ description: "The device's name (Jami sends the host name)" })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  deviceName?: string;
}

export class EnrollmentResponseDto {
  @ApiProperty({ description: 'PEM: device, account, CA (leaf first)' })
  certificateChain: string;

  @ApiProperty({ description: 'JSON text {id, dev, eth, announce}' })
  deviceReceipt: string;

  @ApiProperty({ description: 'base64 RSA PKCS#1 v1.5 SHA-512 by the account key over deviceReceipt' })
  receiptSignature: string;

  @ApiProperty({ example: '/api/nameserver' })
  nameServer: string;

  @ApiPropertyOptional({ name: 'Account.displayName' })
  'Account.displayName'?: string;
}

export class JamsTokenDto {
  @ApiProperty()
  access_token: string;

  @ApiProperty({ description: 'Seconds (integer)' })
  expires_in: number;

  @ApiProperty({ enum: ['DEVICE', 'USER'] })
  scope: 'DEVICE' | 'USER';

  @ApiProperty({ example: 'Bearer' })
  token_type: 'Bearer';

  @ApiPropertyOptional({
    description:
      'DEVICE login with a certificate that was renewed since: the new chain (PEM device → account → CA). Stock Jami clients ignore it',
  })
  certificateChain?: string;
}

export class JamsDeviceDto {
  @ApiProperty({ description: 'SHA-256 of the device key, 64 hex' })
  deviceId: string;

  @ApiProperty()
  alias: string;

  @ApiProperty()
  revoked: boolean;
}

export class DirectoryProfileDto {
  @ApiProperty({ description: 'Jami ID, 40 hex' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiPropertyOptional()
  firstName?: string;

  @ApiPropertyOptional()
  lastName?: string;

  @ApiPropertyOptional()
  email?: string;
}

export class DirectorySearchResponseDto {
  @ApiProperty({ type: [DirectoryProfileDto] })
  profiles: DirectoryProfileDto[];
}

export class RevokeResultDto {
  @ApiProperty()
  success: boolean;
}
