import { Body, Controller, Get, HttpCode, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ADMIN_ROUTE_ERRORS, ApiErrors } from '../../common/error-response.dto';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminRole, OwnerOnly, RequireRecentAuth, Roles } from '../auth/roles';
import {
  CaOverviewResponseDto,
  CaSettingsDto,
  CertificateListResponseDto,
  ListCertificatesQueryDto,
  RenewalReportDto,
  RetirementResponseDto,
  RotateCaDto,
  RotationResponseDto,
  RunRenewalsDto,
  UpdateCaSettingsDto,
} from './ca.dto';
import { CaOperationsService } from './ca-operations.service';
import { CaSettingsService } from './ca-settings.service';
import { TlsService } from './tls.service';

const actorOf = (admin: AdminPrincipal) => `admin:${admin.username}`;

/** CA operations: reads for owners and auditors; changes for owners who re-authenticated recently. */
@ApiTags('admin-ca')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin')
export class CaAdminController {
  constructor(
    private readonly operations: CaOperationsService,
    private readonly settings: CaSettingsService,
    private readonly tls: TlsService,
  ) {}

  @Get('ca')
  @Roles(AdminRole.OWNER, AdminRole.AUDITOR)
  @ApiOperation({
    summary:
      'The organization CA: subject, key, fingerprints, validity, certificate counts (both CAs during a rotation)',
  })
  @ApiOkResponse({ type: CaOverviewResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.SETUP_REQUIRED)
  overview(): Promise<CaOverviewResponseDto> {
    return this.operations.overview();
  }

  @Get('certificates')
  @Roles(AdminRole.OWNER, AdminRole.AUDITOR)
  @ApiOperation({ summary: 'Issued certificates, soonest expiry first (cursor pagination)' })
  @ApiOkResponse({ type: CertificateListResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  certificates(@Query() query: ListCertificatesQueryDto): Promise<CertificateListResponseDto> {
    return this.operations.listCertificates(query);
  }

  @Get('ca/settings')
  @Roles(AdminRole.OWNER, AdminRole.AUDITOR)
  @ApiOperation({ summary: 'Certificate lifetimes, CRL validity and the renewal window' })
  @ApiOkResponse({ type: CaSettingsDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  getSettings(): Promise<CaSettingsDto> {
    return this.settings.get();
  }

  @Put('ca/settings')
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Change lifetimes (validated against the CA expiry); used by every later issuance' })
  @ApiOkResponse({ type: CaSettingsDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED, ErrorCode.CA_SETTINGS_INVALID)
  putSettings(@Body() body: UpdateCaSettingsDto, @CurrentAdmin() admin: AdminPrincipal): Promise<CaSettingsDto> {
    return this.settings.update(body, actorOf(admin));
  }

  @Post('ca/renewals')
  @HttpCode(200)
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'Run the renewal job now: reissue account and device certificates expiring soon' })
  @ApiOkResponse({ type: RenewalReportDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED, ErrorCode.SETUP_REQUIRED)
  renew(@Body() body: RunRenewalsDto, @CurrentAdmin() admin: AdminPrincipal): Promise<RenewalReportDto> {
    return this.operations.renewExpiring(body.withinDays, actorOf(admin));
  }

  @Post('ca/rotate')
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({
    summary: 'Create or import a new CA, cross-sign it with the current one and move account certificates to it',
  })
  @ApiCreatedResponse({ type: RotationResponseDto })
  @ApiErrors(
    ...ADMIN_ROUTE_ERRORS,
    ErrorCode.REAUTH_REQUIRED,
    ErrorCode.CA_ROTATION_INVALID,
    ErrorCode.SETUP_REQUIRED,
    ErrorCode.CA_ROTATION_IN_PROGRESS,
  )
  async rotate(@Body() body: RotateCaDto, @CurrentAdmin() admin: AdminPrincipal): Promise<RotationResponseDto> {
    const result = await this.operations.rotate(body, actorOf(admin));
    // The HTTPS certificate follows the active CA.
    await this.tls.refresh();
    return result;
  }

  @Post('ca/retire-previous')
  @HttpCode(200)
  @OwnerOnly()
  @RequireRecentAuth()
  @ApiOperation({ summary: 'End the rotation overlap now: stop serving the previous CA and its cross certificates' })
  @ApiOkResponse({ type: RetirementResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.REAUTH_REQUIRED, ErrorCode.CA_NO_PREVIOUS)
  retire(@CurrentAdmin() admin: AdminPrincipal): Promise<RetirementResponseDto> {
    return this.operations.retirePrevious(actorOf(admin));
  }
}
