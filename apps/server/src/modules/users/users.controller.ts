import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, AnyRole, HelpdeskOrAbove, OwnerOnly } from '../auth/roles';
import { DevicesService } from './devices.service';
import {
  CreateUserDto,
  DeviceSummaryDto,
  ListUsersQueryDto,
  RenameDeviceDto,
  SetUserPasswordDto,
  SuspendUserDto,
  TombstoneDto,
  UpdateUserDto,
  UserListResponseDto,
  UserResponseDto,
} from './users.dto';
import { UsersService } from './users.service';

const AUTH = [ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN] as const;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly devices: DevicesService,
  ) {}

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a local user' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.USERNAME_INVALID,
    ErrorCode.PASSWORD_TOO_SHORT,
    ErrorCode.USER_EXISTS,
    ErrorCode.USERNAME_RESERVED,
    ...AUTH,
  )
  create(@Body() body: CreateUserDto, @CurrentAdmin() admin: AdminPrincipal): Promise<UserResponseDto> {
    return this.users.create(body, `admin:${admin.username}`);
  }

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'List users by username (keyset pages), with search and filters' })
  @ApiOkResponse({ type: UserListResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ...AUTH)
  list(@Query() query: ListUsersQueryDto): Promise<UserListResponseDto> {
    return this.users.list(query);
  }

  @Get(':username')
  @AnyRole()
  @ApiOperation({ summary: "A user's profile, Jami ID and devices" })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  get(@Param('username') username: string): Promise<UserResponseDto> {
    return this.users.get(username);
  }

  @Patch(':username')
  @AdminOnly()
  @ApiOperation({ summary: "Edit a local user's names, email and phone (directory users: 409)" })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND, ErrorCode.USER_FIELD_MANAGED_BY_DIRECTORY, ...AUTH)
  update(
    @Param('username') username: string,
    @Body() body: UpdateUserDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<UserResponseDto> {
    return this.users.update(username, body, `admin:${admin.username}`);
  }

  @Post(':username/suspend')
  @HttpCode(200)
  @HelpdeskOrAbove()
  @ApiOperation({ summary: 'Suspend a user: no enrollment, logins or name resolution; tokens end' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND, ErrorCode.USER_STATUS_CONFLICT, ...AUTH)
  suspend(
    @Param('username') username: string,
    @Body() body: SuspendUserDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<UserResponseDto> {
    return this.users.suspend(username, body, `admin:${admin.username}`);
  }

  @Post(':username/resume')
  @HttpCode(200)
  @HelpdeskOrAbove()
  @ApiOperation({ summary: 'Resume a user an admin suspended (revoked certificates stay revoked)' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ErrorCode.USER_STATUS_CONFLICT, ...AUTH)
  resume(@Param('username') username: string, @CurrentAdmin() admin: AdminPrincipal): Promise<UserResponseDto> {
    return this.users.resume(username, `admin:${admin.username}`);
  }

  @Post(':username/password')
  @HttpCode(204)
  @HelpdeskOrAbove()
  @ApiOperation({ summary: "Set a local user's password; their USER tokens end" })
  @ApiNoContentResponse()
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.PASSWORD_TOO_SHORT,
    ErrorCode.USER_NOT_FOUND,
    ErrorCode.USER_NOT_LOCAL,
    ...AUTH,
  )
  async setPassword(
    @Param('username') username: string,
    @Body() body: SetUserPasswordDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<void> {
    await this.users.setPassword(username, body.password, `admin:${admin.username}`);
  }

  @Patch(':username/devices/:deviceId')
  @AdminOnly()
  @ApiOperation({ summary: 'Rename a device' })
  @ApiOkResponse({ type: DeviceSummaryDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.USER_NOT_FOUND, ErrorCode.DEVICE_NOT_FOUND, ...AUTH)
  renameDevice(
    @Param('username') username: string,
    @Param('deviceId') deviceId: string,
    @Body() body: RenameDeviceDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<DeviceSummaryDto> {
    return this.devices.rename(username, deviceId, body.name, `admin:${admin.username}`);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/tombstones')
export class TombstonesController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Names of deleted users, reserved until released' })
  @ApiOkResponse({ type: [TombstoneDto] })
  @ApiErrors(...AUTH)
  list(): Promise<TombstoneDto[]> {
    return this.users.tombstones();
  }

  @Delete(':username')
  @HttpCode(204)
  @OwnerOnly()
  @ApiOperation({ summary: 'Release a deleted user’s name: a new user may take it (with a new Jami ID)' })
  @ApiNoContentResponse()
  @ApiErrors(ErrorCode.TOMBSTONE_NOT_FOUND, ...AUTH)
  async release(@Param('username') username: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.users.releaseTombstone(username, `admin:${admin.username}`);
  }
}
