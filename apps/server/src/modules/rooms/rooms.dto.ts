import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export class PeopleRefDto {
  @ApiProperty({ type: [String], description: 'Usernames', example: ['alice'] })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  users: string[];

  @ApiProperty({ type: [String], description: 'Groups, by id or name (a group stands for its members)' })
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(256, { each: true })
  groups: string[];
}

export class CreateRoomDto {
  @ApiProperty({ description: 'Room name: [a-z0-9_-]{3,32}, shared namespace with usernames', example: 'room-101' })
  @IsString()
  @MaxLength(64)
  name: string;

  @ApiPropertyOptional({ description: 'Shown to callers (default: the name)', example: 'Room 101' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  displayName?: string;

  @ApiProperty({ type: PeopleRefDto, description: 'Default moderators' })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PeopleRefDto)
  moderators: PeopleRefDto;

  @ApiPropertyOptional({ type: PeopleRefDto, description: 'Only these people may call; omit for everyone' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PeopleRefDto)
  members?: PeopleRefDto;

  @ApiPropertyOptional({ default: false, description: 'Every participant is a moderator' })
  @IsOptional()
  @IsBoolean()
  allParticipantsModerators?: boolean;
}

export class UpdateRoomDto {
  @ApiPropertyOptional({ example: 'Room 101' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  displayName?: string;

  @ApiPropertyOptional({ type: PeopleRefDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PeopleRefDto)
  moderators?: PeopleRefDto;

  @ApiPropertyOptional({ type: PeopleRefDto, nullable: true, description: 'null: everyone may call again' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => PeopleRefDto)
  members?: PeopleRefDto | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  allParticipantsModerators?: boolean;
}

export class HostEnrollmentRequestDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 720, default: 24, description: 'Lifetime of the secret' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(720)
  ttlHours?: number;
}

export class HostEnrollmentDto {
  @ApiProperty({ description: 'The room name: the username the host enrolls with' })
  username: string;

  @ApiProperty({ description: 'One-time secret: the password the host enrolls with (shown once)' })
  password: string;

  @ApiProperty()
  expiresAt: string;
}

export class GroupRefDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class ResolvedPeopleDto {
  @ApiProperty({ type: [String] }) users: string[];
  @ApiProperty({ type: [GroupRefDto] }) groups: GroupRefDto[];
  @ApiProperty({ type: [String], description: 'Jami IDs the references stand for now' }) jamiIds: string[];
  @ApiProperty({ type: [String], description: 'Named people without an account yet (added once they enroll)' })
  pending: string[];
}

export class HostParticipantDto {
  @ApiProperty() jamiId: string;
  @ApiProperty({ nullable: true, type: String, description: 'Username or room name, when known' })
  name: string | null;
  @ApiProperty() device: string;
  @ApiProperty() moderator: boolean;
  @ApiProperty() muted: boolean;
}

export class HostConferenceDto {
  @ApiProperty() id: string;
  @ApiProperty({ type: [HostParticipantDto] }) participants: HostParticipantDto[];
}

export class RoomHostDto {
  @ApiProperty({ description: 'A report came within the last 30 s' }) online: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'The enrolled host device (64 hex)' })
  deviceId: string | null;
  @ApiProperty({ nullable: true, type: String }) deviceName: string | null;
  @ApiProperty({ nullable: true, type: String }) daemonVersion: string | null;
  @ApiProperty({ nullable: true, type: String }) lastReportAt: string | null;
  @ApiProperty({ nullable: true, type: HostConferenceDto }) conference: HostConferenceDto | null;
  @ApiProperty({ nullable: true, type: String, description: 'Expiry of the outstanding host secret' })
  secretExpiresAt: string | null;
  @ApiProperty({ description: 'The outstanding host secret was used' }) secretUsed: boolean;
}

export class RoomDto {
  @ApiProperty() name: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ nullable: true, type: String, description: "The room's Jami ID (40 hex)" }) jamiId: string | null;
  @ApiProperty({ type: ResolvedPeopleDto }) moderators: ResolvedPeopleDto;
  @ApiProperty({ type: ResolvedPeopleDto, nullable: true }) members: ResolvedPeopleDto | null;
  @ApiProperty() allParticipantsModerators: boolean;
  @ApiProperty({ type: RoomHostDto }) host: RoomHostDto;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class HostParticipantReportDto {
  @ApiProperty()
  @IsString()
  @Matches(/^[0-9a-f]{40}$/)
  jamiId: string;

  @ApiProperty()
  @IsString()
  @MaxLength(64)
  device: string;

  @ApiProperty()
  @IsBoolean()
  moderator: boolean;

  @ApiProperty()
  @IsBoolean()
  muted: boolean;
}

export class HostConferenceReportDto {
  @ApiProperty()
  @IsString()
  @MaxLength(64)
  id: string;

  @ApiProperty({ type: [HostParticipantReportDto] })
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => HostParticipantReportDto)
  participants: HostParticipantReportDto[];
}

export class HostStatusReportDto {
  @ApiProperty({ example: 'Jami Daemon 13.7.0' })
  @IsString()
  @MaxLength(128)
  daemonVersion: string;

  @ApiProperty({ type: HostConferenceReportDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => HostConferenceReportDto)
  conference: HostConferenceReportDto | null;
}
