import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, UseGuards } from '@nestjs/common';
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
import type { AdminPrincipal } from './admin-auth.service';
import { AdminSettingsService } from './admin-settings.service';
import { AdminGuard, CurrentAdmin } from './admin.guard';
import { AdminsService } from './admins.service';
import {
  AdminResponseDto,
  AdminSecuritySettingsDto,
  AdminSecuritySettingsResponseDto,
  CreateAdminDto,
  UpdateAdminDto,
} from './auth.dto';
import { AdminRole, OwnerOnly, RequireRecentAuth, Roles } from './roles';

const actor = (a: AdminPrincipal) => `admin:${a.username}`;

@ApiTags('admins')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin')
export class AdminsController {
  constructor(
    private readonly admins: AdminsService,
    private readonly settings: AdminSettingsService,
  ) {}

  @Get('admins')
  @Roles(AdminRole.OWNER, AdminRole.AUDITOR)
  @ApiOperation({ summary: 'Every admin with its role, state and MFA status (owners and auditors)' })
  @ApiOkResponse({ type: [AdminResponseDto] })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  list(): Promise<AdminResponseDto[]> {
    return this.admins.list();
  }

  @Post('admins')
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Add an admin with a role (owners; recent re-authentication)' })
  @ApiCreatedResponse({ type: AdminResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.PASSWORD_TOO_SHORT, ErrorCode.REAUTH_REQUIRED, ErrorCode.ADMIN_EXISTS)
  create(@Body() body: CreateAdminDto, @CurrentAdmin() admin: AdminPrincipal): Promise<AdminResponseDto> {
    return this.admins.create(body, actor(admin));
  }

  @Patch('admins/:username')
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({
    summary: 'Change an admin’s role or disable it (its sessions and tokens end); never the last active owner',
  })
  @ApiOkResponse({ type: AdminResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED, ErrorCode.ADMIN_NOT_FOUND, ErrorCode.LAST_OWNER)
  update(
    @Param('username') username: string,
    @Body() body: UpdateAdminDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<AdminResponseDto> {
    return this.admins.update(username, body, actor(admin));
  }

  @Delete('admins/:username')
  @HttpCode(204)
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Delete an admin with its sessions and tokens; never the last active owner' })
  @ApiNoContentResponse()
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED, ErrorCode.ADMIN_NOT_FOUND, ErrorCode.LAST_OWNER)
  async remove(@Param('username') username: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.admins.remove(username, actor(admin));
  }

  @Get('settings')
  @Roles(AdminRole.OWNER, AdminRole.AUDITOR)
  @ApiOperation({ summary: 'Admin security settings: MFA requirement, session idle timeout and lifetime' })
  @ApiOkResponse({ type: AdminSecuritySettingsResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  getSettings(): Promise<AdminSecuritySettingsResponseDto> {
    return this.settings.get();
  }

  @Put('settings')
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Change the admin security settings (owners; recent re-authentication)' })
  @ApiOkResponse({ type: AdminSecuritySettingsResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED)
  putSettings(
    @Body() body: AdminSecuritySettingsDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<AdminSecuritySettingsResponseDto> {
    return this.settings.update(
      {
        requireMfa: body.requireMfa,
        sessionIdleMinutes: body.sessionIdleMinutes,
        sessionMaxHours: body.sessionMaxHours,
      },
      actor(admin),
    );
  }
}
