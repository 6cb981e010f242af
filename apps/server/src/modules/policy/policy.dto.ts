import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import type { DaemonConfig, PolicySettings } from './daemon-keys';

const NAME_RULE = /^[^\p{Cc}]+$/u;
const SETTINGS_DOC =
  'Jami daemon keys (jams-protocol.md §7), each checked by its meaning: e.g. {"TURN.enable": true, ' +
  '"TURN.server": "turn.example.org:3478", "Account.defaultModerators": {"users": ["alice"], "groups": ["<group id or name>"]}, ' +
  '"Account.uiCustomization": {"title": "Acme", "logo": "<uploaded logo id>"}}';

export class CreatePolicyDto {
  @ApiProperty({ example: 'Engineering', description: '1–128 characters, unique among policies' })
  @IsString()
  @Length(1, 128)
  @Matches(NAME_RULE, { message: 'name must not contain control characters' })
  name: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: SETTINGS_DOC })
  @IsDefined()
  settings: PolicySettings;
}

export class UpdatePolicyDto {
  @ApiPropertyOptional({ example: 'Engineering' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(NAME_RULE, { message: 'name must not contain control characters' })
  name?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: `${SETTINGS_DOC}; replaces the settings` })
  @IsDefined()
  settings: PolicySettings;
}

export class SetDefaultPolicyDto {
  @ApiProperty({ description: 'The policy that becomes the organization default' })
  @IsUUID(undefined, { message: 'policyId must be a policy id (UUID)' })
  policyId: string;
}

export class UserPolicyDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: SETTINGS_DOC })
  @IsDefined()
  settings: PolicySettings;
}

export class PolicyGroupDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() priority: number;
}

export class PolicyResponseDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: '1 at creation, +1 at each save' }) version: number;
  @ApiProperty({ description: 'The organization default (applies to everyone, under groups and overrides)' })
  isDefault: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'As stored (people normalised)' })
  settings: PolicySettings;
  @ApiProperty({ type: [PolicyGroupDto], description: 'Groups the policy is assigned to' })
  groups: PolicyGroupDto[];
  @ApiProperty() createdAt: Date;
  @ApiProperty() updatedAt: Date;
}

export class SettingsDiffDto {
  @ApiProperty({ type: [String] }) added: string[];
  @ApiProperty({ type: [String] }) removed: string[];
  @ApiProperty({ type: [String] }) changed: string[];
  @ApiPropertyOptional({ description: 'Set when the name changed: the previous name' }) renamedFrom?: string;
}

export class PolicyVersionResponseDto {
  @ApiProperty() version: number;
  @ApiProperty() name: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings: PolicySettings;
  @ApiProperty() actor: string;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ type: SettingsDiffDto, description: 'Against the previous version (version 1: all keys added)' })
  diff: SettingsDiffDto;
}

export class PolicySourceDto {
  @ApiProperty({
    enum: ['default', 'group', 'user', 'server'],
    description: "'server': not set by any policy, the server's own DHT node (Account.hostname)",
  })
  via: 'default' | 'group' | 'user' | 'server';
  @ApiProperty({ type: String, nullable: true, description: 'null for a user override' }) policyId: string | null;
  @ApiProperty({ type: String, nullable: true }) policyName: string | null;
  @ApiPropertyOptional() groupId?: string;
  @ApiPropertyOptional() groupName?: string;
}

export class EffectivePolicyResponseDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "The daemon keys the user's devices receive (enrollment answer and policyData)",
  })
  keys: DaemonConfig;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/PolicySourceDto' },
    description: 'For each key, which policy set it',
  })
  sources: Record<string, PolicySourceDto>;
  @ApiProperty({ type: [String], description: 'Named moderators without a Jami ID yet (added once they enroll)' })
  pending: string[];
}

export class PolicyPreviewResponseDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The daemon keys this policy delivers' })
  keys: DaemonConfig;
  @ApiProperty({ type: [String] }) pending: string[];
}

export class UserPolicyResponseDto {
  @ApiProperty() username: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings: PolicySettings;
}

export class LogoResponseDto {
  @ApiProperty({ description: 'Refer to it as Account.uiCustomization.logo (or backgroundImage)' }) id: string;
  @ApiProperty({ example: '/api/branding/logos/<id>', description: 'Public path (clients load managerUri + path)' })
  url: string;
  @ApiProperty({ enum: ['image/png', 'image/jpeg', 'image/svg+xml'] }) contentType: string;
  @ApiProperty() size: number;
}
