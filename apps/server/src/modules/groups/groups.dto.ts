import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

export class GroupResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['local', 'ldap', 'ad'], description: 'local: members managed here; ldap/ad: mirrored' })
  source: string;
  @ApiProperty() memberCount: number;
  @ApiProperty({ type: String, nullable: true, description: 'The policy applied to members' })
  policyId: string | null;
  @ApiProperty({ type: String, nullable: true }) policyName: string | null;
  @ApiProperty({ description: 'Group policies apply in ascending priority (ties: name); higher overrides lower' })
  priority: number;
  @ApiProperty() createdAt: Date;
}

export class GroupMemberDto {
  @ApiProperty() username: string;
  @ApiProperty({ type: String, nullable: true }) firstName: string | null;
  @ApiProperty({ type: String, nullable: true }) lastName: string | null;
  @ApiProperty({ enum: ['active', 'suspended'] }) status: string;
  @ApiProperty({ type: String, nullable: true, description: 'Set once the user enrolled a device' })
  jamiId: string | null;
}

export class GroupDetailResponseDto extends GroupResponseDto {
  @ApiProperty({ type: [GroupMemberDto] }) members: GroupMemberDto[];
}

const NAME_RULE = /^[^\p{Cc}]+$/u;

export class CreateGroupDto {
  @ApiProperty({ example: 'engineering', description: '1–128 characters, unique among groups' })
  @IsString()
  @Length(1, 128)
  @Matches(NAME_RULE, { message: 'name must not contain control characters' })
  name: string;
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Policy id to apply to members; null unassigns' })
  @ValidateIf((o: UpdateGroupDto) => o.policyId !== null && o.policyId !== undefined)
  @IsUUID(undefined, { message: 'policyId must be a policy id (UUID) or null' })
  policyId?: string | null;

  @ApiPropertyOptional({ minimum: -1000000, maximum: 1000000, example: 10 })
  @IsOptional()
  @IsInt()
  @Min(-1000000)
  @Max(1000000)
  priority?: number;
}

export class UpdateGroupMembersDto {
  @ApiPropertyOptional({ type: [String], description: 'Usernames to add' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  add?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Usernames to remove' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  remove?: string[];
}
