import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, HelpdeskOrAbove } from '../auth/roles';
import { DeviceSummaryDto, RevokeDevicesDto, RevokeDevicesResponseDto } from '../users/users.dto';
import { toDeviceSummary, UsersService } from '../users/users.service';
import { AccountsService } from './accounts.service';

export class AccountRevocationDto {
  @ApiProperty({ nullable: true, type: String })
  jamiId: string | null;

  @ApiProperty({ description: 'Devices revoked with the account' })
  devicesRevoked: number;
}

const AUTH = [ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN] as const;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/users/:username')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly users: UsersService,
  ) {}

  @Delete()
  @AdminOnly()
  @ApiOperation({
    summary: 'Delete a user: account and devices revoked; the name and Jami ID stay reserved (tombstone)',
  })
  @ApiOkResponse({ type: AccountRevocationDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  async delete(
    @Param('username') username: string,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<AccountRevocationDto> {
    const r = await this.accounts.deleteUser(username, `admin:${admin.username}`);
    return { jamiId: r.jamiId, devicesRevoked: r.devices };
  }

  @Delete('devices/:deviceId')
  @HelpdeskOrAbove()
  @ApiOperation({ summary: 'Revoke one device (CRL, OCSP, its next /api/login fails)' })
  @ApiOkResponse({ type: DeviceSummaryDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ErrorCode.DEVICE_NOT_FOUND, ...AUTH)
  async revokeDevice(
    @Param('username') username: string,
    @Param('deviceId') deviceId: string,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<DeviceSummaryDto> {
    const user = await this.users.entity(username);
    return toDeviceSummary(await this.accounts.revokeDevice(user, deviceId, `admin:${admin.username}`));
  }

  @Post('revoke')
  @HttpCode(200)
  @AdminOnly()
  @ApiOperation({ summary: 'Revoke the account and all its devices; the user is suspended' })
  @ApiOkResponse({ type: AccountRevocationDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  async revokeAccount(
    @Param('username') username: string,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<AccountRevocationDto> {
    const user = await this.users.entity(username);
    const r = await this.accounts.revokeAccount(user, `admin:${admin.username}`);
    return { jamiId: r.jamiId, devicesRevoked: r.devices };
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/devices')
export class DeviceRevocationController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('revoke')
  @HttpCode(200)
  @HelpdeskOrAbove()
  @ApiOperation({ summary: 'Revoke devices across the organization; one result per device' })
  @ApiOkResponse({ type: RevokeDevicesResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ...AUTH)
  async revoke(
    @Body() body: RevokeDevicesDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<RevokeDevicesResponseDto> {
    return {
      results: await this.accounts.revokeDevices(body.deviceIds, body.reason.trim(), `admin:${admin.username}`),
    };
  }
}
