import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { GroupDto, GroupPolicyDto } from './groups.dto';
import { GroupsService } from './groups.service';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({ summary: 'Groups (local and mirrored from the directory) with member counts and policies' })
  @ApiOkResponse({ type: [GroupDto] })
  list(): Promise<GroupDto[]> {
    return this.groups.list();
  }

  @Put(':id/policy')
  @ApiOperation({ summary: "Set a group's policy: Jami daemon keys its members' devices receive" })
  @ApiOkResponse({ type: GroupDto })
  setPolicy(
    @Param('id') id: string,
    @Body() body: GroupPolicyDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<GroupDto> {
    return this.groups.setPolicy(id, body.policy, `admin:${admin.username}`);
  }
}
