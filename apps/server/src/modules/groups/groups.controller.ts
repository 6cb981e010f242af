import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
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
import { uuidParam } from '../../common/parse-uuid.pipe';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, AnyRole } from '../auth/roles';
import {
  CreateGroupDto,
  GroupDetailResponseDto,
  GroupResponseDto,
  UpdateGroupDto,
  UpdateGroupMembersDto,
} from './groups.dto';
import { GroupsService } from './groups.service';

const AUTH = [ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN] as const;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Groups (local and mirrored from the directory): members, policy, priority, source' })
  @ApiOkResponse({ type: [GroupResponseDto] })
  @ApiErrors(...AUTH)
  list(): Promise<GroupResponseDto[]> {
    return this.groups.list();
  }

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a local group' })
  @ApiCreatedResponse({ type: GroupDetailResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.GROUP_EXISTS, ...AUTH)
  create(@Body() body: CreateGroupDto, @CurrentAdmin() admin: AdminPrincipal): Promise<GroupDetailResponseDto> {
    return this.groups.create(body, `admin:${admin.username}`);
  }

  @Get(':id')
  @AnyRole()
  @ApiOperation({ summary: 'A group with its members' })
  @ApiOkResponse({ type: GroupDetailResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.GROUP_NOT_FOUND, ...AUTH)
  get(@Param('id', uuidParam()) id: string): Promise<GroupDetailResponseDto> {
    return this.groups.get(id);
  }

  @Put(':id')
  @AdminOnly()
  @ApiOperation({ summary: "Assign the group's policy (policyId, null to unassign) and priority" })
  @ApiOkResponse({ type: GroupDetailResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.GROUP_NOT_FOUND, ...AUTH)
  update(
    @Param('id', uuidParam()) id: string,
    @Body() body: UpdateGroupDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<GroupDetailResponseDto> {
    return this.groups.update(id, body, `admin:${admin.username}`);
  }

  @Put(':id/members')
  @AdminOnly()
  @ApiOperation({ summary: 'Add and remove members of a local group (usernames)' })
  @ApiOkResponse({ type: GroupDetailResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.GROUP_NOT_FOUND, ErrorCode.GROUP_READ_ONLY, ...AUTH)
  updateMembers(
    @Param('id', uuidParam()) id: string,
    @Body() body: UpdateGroupMembersDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<GroupDetailResponseDto> {
    return this.groups.updateMembers(id, body, `admin:${admin.username}`);
  }

  @Delete(':id')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a local group' })
  @ApiNoContentResponse()
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.GROUP_NOT_FOUND,
    ErrorCode.GROUP_READ_ONLY,
    ErrorCode.GROUP_IN_USE,
    ...AUTH,
  )
  async delete(@Param('id', uuidParam()) id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.groups.delete(id, `admin:${admin.username}`);
  }
}
