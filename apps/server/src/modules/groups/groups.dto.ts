import { ApiProperty } from '@nestjs/swagger';
import { IsObject } from 'class-validator';

export class GroupDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['local', 'ldap', 'ad'] }) source: string;
  @ApiProperty() members: number;
  @ApiProperty({ description: 'Jami daemon keys applied to members', type: 'object', additionalProperties: true })
  policy: Record<string, string | number | boolean>;
}

export class GroupPolicyDto {
  @ApiProperty({
    description: 'Jami daemon keys (e.g. {"TURN.server": "turn.example.org"}); replaces the group policy',
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  policy: Record<string, string | number | boolean>;
}
