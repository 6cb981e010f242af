import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ADMIN_ROUTE_ERRORS, ApiErrors } from '../../common/error-response.dto';
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
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.USERNAME_INVALID, ErrorCode.ROOM_NAME_TAKEN)
  create(@Body() body: CreateRoomDto, @CurrentAdmin() admin: AdminPrincipal): Promise<RoomDto> {
    return this.rooms.create(body, `admin:${admin.username}`);
  }

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Every room with its resolved moderators and host status' })
  @ApiOkResponse({ type: [RoomDto] })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  list(): Promise<RoomDto[]> {
    return this.rooms.list();
  }

  @Get(':name')
  @AnyRole()
  @ApiOperation({ summary: 'A room: moderators (with pending users), members, host status and conference' })
  @ApiOkResponse({ type: RoomDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.ROOM_NOT_FOUND)
  get(@Param('name') name: string): Promise<RoomDto> {
    return this.rooms.get(name);
  }

  @Patch(':name')
  @AdminOnly()
  @ApiOperation({ summary: 'Change display name, moderators, members (null: everyone) or all-moderators' })
  @ApiOkResponse({ type: RoomDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.ROOM_NOT_FOUND)
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
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.ROOM_NOT_FOUND)
  async remove(@Param('name') name: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.rooms.remove(name, `admin:${admin.username}`);
  }

  @Post(':name/host-enrollment')
  @AdminOnly()
  @ApiOperation({
    summary: 'One-time secret with which one device enrolls as the host; revokes any previous host device',
  })
  @ApiCreatedResponse({ type: HostEnrollmentDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.ROOM_NOT_FOUND)
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
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.DEVICE_REVOKED,
    ErrorCode.SCOPE_INSUFFICIENT,
    ErrorCode.ROOM_HOST_ONLY,
    ErrorCode.ROOM_NOT_FOUND,
  )
  async status(@CurrentJams() p: JamsPrincipal, @Body() body: HostStatusReportDto): Promise<void> {
    await this.rooms.recordHostReport(p.user, p.deviceId, body);
  }
}
