import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, AnyRole } from '../auth/roles';
import { DirectorySyncService, toSyncRunDto } from './directory-sync.service';
import {
  ConnectionTestDto,
  DirectorySettingsDto,
  DirectorySettingsResponseDto,
  ProvisioningRunDto,
  StartSyncDto,
  SyncRunDto,
} from './directory.dto';
import { DirectoryService } from './directory.service';
import { ProvisioningService, toProvisioningDto } from './provisioning.service';
import { DirectoryScheduler } from './directory.scheduler';

@ApiTags('directory')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/directory')
export class DirectoryController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly sync: DirectorySyncService,
    private readonly provisioning: ProvisioningService,
    private readonly scheduler: DirectoryScheduler,
  ) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Directory settings (the bind password is never returned)' })
  @ApiOkResponse({ type: DirectorySettingsResponseDto })
  async settings(): Promise<DirectorySettingsResponseDto> {
    return this.directory.toResponse(await this.directory.config());
  }

  @Put()
  @AdminOnly()
  @ApiOperation({ summary: 'Change the directory settings: local, LDAP or Active Directory' })
  @ApiOkResponse({ type: DirectorySettingsResponseDto })
  async update(
    @Body() body: DirectorySettingsDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<DirectorySettingsResponseDto> {
    const saved = await this.directory.update(body, `admin:${admin.username}`);
    await this.scheduler.apply(saved);
    return this.directory.toResponse(saved);
  }

  @Post('test')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Test the connection: DNS, TCP, TLS, bind, search, and how many users the filter matches' })
  @ApiOkResponse({ type: ConnectionTestDto })
  test(): Promise<ConnectionTestDto> {
    return this.directory.test();
  }

  @Post('sync')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Sync now (full by default); returns the queued run' })
  @ApiOkResponse({ type: SyncRunDto })
  async syncNow(@Body() body: StartSyncDto, @CurrentAdmin() admin: AdminPrincipal): Promise<SyncRunDto> {
    return toSyncRunDto(await this.sync.enqueue(body.mode ?? 'full', `admin:${admin.username}`));
  }

  @Get('sync-runs')
  @AnyRole()
  @ApiOperation({ summary: 'Recent sync runs' })
  @ApiOkResponse({ type: [SyncRunDto] })
  async runs(): Promise<SyncRunDto[]> {
    return (await this.sync.list()).map(toSyncRunDto);
  }

  @Get('sync-runs/:id')
  @AnyRole()
  @ApiOperation({ summary: 'One sync run' })
  @ApiOkResponse({ type: SyncRunDto })
  async run(@Param('id') id: string): Promise<SyncRunDto> {
    return toSyncRunDto(await this.sync.get(id));
  }

  @Post('sync-runs/:id/confirm')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the suspensions a braked sync is holding back' })
  @ApiOkResponse({ type: SyncRunDto })
  async confirm(@Param('id') id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<SyncRunDto> {
    return toSyncRunDto(await this.sync.confirm(id, `admin:${admin.username}`));
  }

  @Post('provision')
  @AdminOnly()
  @HttpCode(202)
  @ApiOperation({ summary: 'Pre-issue account keys and certificates for every active user without one' })
  @ApiOkResponse({ type: ProvisioningRunDto })
  async provision(@CurrentAdmin() admin: AdminPrincipal): Promise<ProvisioningRunDto> {
    return toProvisioningDto(await this.provisioning.start(`admin:${admin.username}`));
  }

  @Get('provisioning/:id')
  @AnyRole()
  @ApiOperation({ summary: 'Provisioning progress: count, rate, ETA' })
  @ApiOkResponse({ type: ProvisioningRunDto })
  async provisioningRun(@Param('id') id: string): Promise<ProvisioningRunDto> {
    return toProvisioningDto(await this.provisioning.get(id));
  }
}
