import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiDefaultResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, AnyRole } from '../auth/roles';
import { CurrentJams, JamsAuthGuard, JamsPrincipal } from '../jams/jams-auth.guard';
import {
  CreateRoomDto,
  HostEnrollmentDto,
  HostEnrollmentRequestDto,
  HostStatusReportDto,
  RoomDto,
  UpdateRoomDto,
} from './rooms.dto';
import { RoomsService } from './rooms.service';
import { ErrorResponseDto } from '../../common/error-response.dto';

const errors = (...statuses: [number, string][]) =>
  statuses.map(([status, description]) => ApiResponse({ status, description, type: ErrorResponseDto }));

function Errors(...statuses: [number, string][]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const d of [
      ...errors([401, 'UNAUTHENTICATED'], [403, 'FORBIDDEN'], ...statuses),
      ApiDefaultResponse({ type: ErrorResponseDto }),
    ])
      d(target, key, descriptor);
  };
}

/** Conference rooms (admin API). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/rooms')
export class RoomsController {
  constructor(private readonly rooms: RoomsService) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a conference room: a managed account in rendezvous mode' })
  @ApiCreatedResponse({ type: RoomDto })
  @Errors(
    [400, 'VALIDATION_FAILED (unknown moderators/members), USERNAME_INVALID (name)'],
    [409, 'ROOM_NAME_TAKEN: a user or room has this name'],
  )
  create(@Body() body: CreateRoomDto, @CurrentAdmin() admin: AdminPrincipal): Promise<RoomDto> {
    return this.rooms.create(body, `admin:${admin.username}`);
  }

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Every room with its resolved moderators and host status' })
  @ApiOkResponse({ type: [RoomDto] })
  @Errors()
  list(): Promise<RoomDto[]> {
    return this.rooms.list();
  }

  @Get(':name')
  @AnyRole()
  @ApiOperation({ summary: 'A room: moderators (with pending users), members, host status and conference' })
  @ApiOkResponse({ type: RoomDto })
  @Errors([404, 'ROOM_NOT_FOUND'])
  get(@Param('name') name: string): Promise<RoomDto> {
    return this.rooms.get(name);
  }

  @Patch(':name')
  @AdminOnly()
  @ApiOperation({ summary: 'Change display name, moderators, members (null: everyone) or all-moderators' })
  @ApiOkResponse({ type: RoomDto })
  @Errors([400, 'VALIDATION_FAILED'], [404, 'ROOM_NOT_FOUND'])
  update(
    @Param('name') name: string,
    @Body() body: UpdateRoomDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<RoomDto> {
    return this.rooms.update(name, body, `admin:${admin.username}`);
  }

  @Delete(':name')
  @HttpCode(204)
  @AdminOnly()
  @ApiOperation({ summary: 'Delete a room: its account and host device are revoked (the name stays reserved)' })
  @ApiNoContentResponse()
  @Errors([404, 'ROOM_NOT_FOUND'])
  async remove(@Param('name') name: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.rooms.remove(name, `admin:${admin.username}`);
  }

  @Post(':name/host-enrollment')
  @AdminOnly()
  @ApiOperation({
    summary: 'One-time secret with which one device enrolls as the host; revokes any previous host device',
  })
  @ApiCreatedResponse({ type: HostEnrollmentDto })
  @Errors([400, 'VALIDATION_FAILED (ttlHours)'], [404, 'ROOM_NOT_FOUND'])
  hostEnrollment(
    @Param('name') name: string,
    @Body() body: HostEnrollmentRequestDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<HostEnrollmentDto> {
    return this.rooms.issueHostEnrollment(name, body.ttlHours, `admin:${admin.username}`);
  }
}

/** JAMS-side route of a room's host (enclave-agent host-room), with the room device's DEVICE token. */
@ApiTags('rooms')
@ApiBearerAuth()
@UseGuards(JamsAuthGuard)
@Controller('api/rooms/host')
export class RoomHostController {
  constructor(private readonly rooms: RoomsService) {}

  @Post('status')
  @HttpCode(204)
  @ApiOperation({ summary: "The host's report: daemon version, conference in progress, participants" })
  @ApiNoContentResponse()
  @Errors([400, 'VALIDATION_FAILED'], [404, 'ROOM_NOT_FOUND'])
  async status(@CurrentJams() p: JamsPrincipal, @Body() body: HostStatusReportDto): Promise<void> {
    await this.rooms.recordHostReport(p.user, p.deviceId, body);
  }
}
