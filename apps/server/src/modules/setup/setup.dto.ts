import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { CaSourceDto } from '../ca/ca.dto';

export class SetupAdminDto {
  @ApiProperty({ example: 'admin', description: '3 to 64 characters among a-z, 0-9, ".", "_", "-"' })
  @IsString()
  @MaxLength(64)
  username: string;

  @ApiProperty({ description: 'At least 8 characters' })
  @IsString()
  @MaxLength(1024)
  password: string;
}

export class SetupCaDto extends CaSourceDto {
  @ApiPropertyOptional({ enum: ['RSA-4096', 'P-256'], description: 'generate: key algorithm (default RSA-4096)' })
  @IsOptional()
  @IsIn(['RSA-4096', 'P-256'])
  algorithm?: 'RSA-4096' | 'P-256';

  @ApiPropertyOptional({ description: 'generate: CA common name (default "<organization> CA")' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  commonName?: string;
}

export class SetupDto {
  @ApiPropertyOptional({
    description:
      'The one-time setup code the server printed at start (log line "setup is pending") and wrote to <dataDir>/setup-code',
    example: 'ABCDE-FGHIJ-KLMNO-PQRST',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  setupCode?: string;

  @ApiProperty({ example: 'Example Corp' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  organization: string;

  @ApiProperty({ type: SetupAdminDto })
  @ValidateNested()
  @Type(() => SetupAdminDto)
  admin: SetupAdminDto;

  @ApiPropertyOptional({ type: SetupCaDto, description: 'Default: generate an RSA-4096 CA' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SetupCaDto)
  ca?: SetupCaDto;
}

export class SetupStateDto {
  @ApiProperty({ description: 'Always true: once set up, this endpoint answers 404' })
  setupRequired: boolean;
}

export class ServerInfoDto {
  @ApiProperty()
  setupRequired: boolean;

  @ApiProperty({ nullable: true, type: String })
  organization: string | null;

  @ApiProperty()
  version: string;
}
