import { Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { DeviceSummaryDto } from '../users/users.dto';
import { UsersService } from '../users/users.service';
import { AccountsService } from './accounts.service';

export class AccountRevocationDto {
  @ApiProperty({ nullable: true, type: String })
  jamiId: string | null;

  @ApiProperty({ description: 'Devices revoked with the account' })
  devicesRevoked: number;
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/users/:username')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly users: UsersService,
  ) {}

  @Delete('devices/:deviceId')
  @ApiOperation({ summary: 'Revoke one device (CRL, OCSP, its next /api/login fails)' })
  @ApiOkResponse({ type: DeviceSummaryDto })
  async revokeDevice(
    @Param('username') username: string,
    @Param('deviceId') deviceId: string,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<DeviceSummaryDto> {
    const user = await this.users.entity(username);
    const d = await this.accounts.revokeDevice(user, deviceId, `admin:${admin.username}`);
    return {
      deviceId: d.deviceId,
      name: d.name,
      createdAt: d.createdAt.toISOString(),
      revokedAt: d.revokedAt?.toISOString() ?? null,
    };
  }

  @Post('revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke the account and all its devices; the user is suspended' })
  @ApiOkResponse({ type: AccountRevocationDto })
  async revokeAccount(
    @Param('username') username: string,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<AccountRevocationDto> {
    const user = await this.users.entity(username);
    const r = await this.accounts.revokeAccount(user, `admin:${admin.username}`);
    return { jamiId: r.jamiId, devicesRevoked: r.devices };
  }
}
