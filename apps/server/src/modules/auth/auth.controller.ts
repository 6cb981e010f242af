import { Body, Controller, Delete, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ErrorCode } from '../../common/app-error';
import { clientAddress } from '../../common/client-address';
import { ADMIN_ROUTE_ERRORS, ApiErrors } from '../../common/error-response.dto';
import { AdminAuthService, AdminAuthentication, AdminPrincipal, ClientInfo } from './admin-auth.service';
import { AdminMfaService } from './admin-mfa.service';
import { AdminGuard, CurrentAdmin, CurrentAuthentication } from './admin.guard';
import {
  AdminLoginDto,
  ChangePasswordDto,
  DisableTotpDto,
  MeResponseDto,
  ReauthDto,
  ReauthResponseDto,
  RecoveryCodesDto,
  TokenResponseDto,
  TotpCodeDto,
  TotpEnrollmentDto,
} from './auth.dto';
import { AllowedDuringMfaSetup, AnyRole } from './roles';

const client = (req: Request): ClientInfo => ({
  ip: clientAddress(req),
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
});

@ApiTags('admin')
@Controller('api/admin')
export class AuthController {
  constructor(
    private readonly auth: AdminAuthService,
    private readonly mfa: AdminMfaService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Admin login: a session bearer token. With TOTP enrolled, send totp (or recoveryCode) too',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.TOKEN_IN_QUERY,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.MFA_REQUIRED,
    ErrorCode.TOO_MANY_ATTEMPTS,
  )
  login(@Body() body: AdminLoginDto, @Req() req: Request): Promise<TokenResponseDto> {
    return this.auth.login(body, client(req));
  }

  @Post('logout')
  @HttpCode(204)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @AllowedDuringMfaSetup()
  @ApiOperation({ summary: 'End the session (or revoke the API token) used for this request' })
  @ApiNoContentResponse()
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  async logout(@CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.auth.logout(admin);
  }

  @Get('me')
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @AllowedDuringMfaSetup()
  @ApiOperation({ summary: 'The signed-in admin: username, role, MFA state' })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  me(@CurrentAuthentication() auth: AdminAuthentication): Promise<MeResponseDto> {
    return this.auth.me(auth);
  }

  @Post('me/password')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @ApiOperation({ summary: 'Change your password; every other session of yours ends' })
  @ApiOkResponse({ schema: { properties: { endedSessions: { type: 'integer' } } } })
  @ApiErrors(
    ...ADMIN_ROUTE_ERRORS,
    ErrorCode.PASSWORD_TOO_SHORT,
    ErrorCode.PASSWORD_INCORRECT,
    ErrorCode.TOO_MANY_ATTEMPTS,
  )
  changePassword(
    @Body() body: ChangePasswordDto,
    @CurrentAdmin() admin: AdminPrincipal,
    @Req() req: Request,
  ): Promise<{ endedSessions: number }> {
    return this.auth.changePassword(admin, body.currentPassword, body.newPassword, client(req));
  }

  @Post('me/reauth')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @ApiOperation({
    summary:
      'Confirm your password (and TOTP code) so routes needing a recent re-authentication accept this session for 5 minutes',
  })
  @ApiOkResponse({ type: ReauthResponseDto })
  @ApiErrors(
    ...ADMIN_ROUTE_ERRORS,
    ErrorCode.MFA_CODE_INVALID,
    ErrorCode.MFA_REQUIRED,
    ErrorCode.PASSWORD_INCORRECT,
    ErrorCode.TOO_MANY_ATTEMPTS,
  )
  reauth(
    @Body() body: ReauthDto,
    @CurrentAdmin() admin: AdminPrincipal,
    @Req() req: Request,
  ): Promise<ReauthResponseDto> {
    return this.auth.reauthenticate(admin, body, client(req));
  }

  @Post('me/mfa/totp')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @AllowedDuringMfaSetup()
  @ApiOperation({ summary: 'Start TOTP enrolment: a new secret for an authenticator app, active once confirmed' })
  @ApiOkResponse({ type: TotpEnrollmentDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.MFA_ALREADY_ENABLED)
  enrollTotp(@CurrentAdmin() admin: AdminPrincipal): Promise<TotpEnrollmentDto> {
    return this.mfa.enroll(admin.id);
  }

  @Post('me/mfa/totp/confirm')
  @HttpCode(200)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @AllowedDuringMfaSetup()
  @ApiOperation({ summary: 'Confirm TOTP with a current code: returns ten one-time recovery codes, shown once' })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiErrors(
    ...ADMIN_ROUTE_ERRORS,
    ErrorCode.MFA_CODE_INVALID,
    ErrorCode.MFA_ALREADY_ENABLED,
    ErrorCode.MFA_NOT_ENABLED,
  )
  confirmTotp(@Body() body: TotpCodeDto, @CurrentAdmin() admin: AdminPrincipal): Promise<RecoveryCodesDto> {
    return this.mfa.confirm(admin.id, body.code);
  }

  @Delete('me/mfa/totp')
  @HttpCode(204)
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @AnyRole()
  @ApiOperation({ summary: 'Turn TOTP off, with a current code or a recovery code' })
  @ApiNoContentResponse()
  @ApiErrors(
    ...ADMIN_ROUTE_ERRORS,
    ErrorCode.MFA_CODE_INVALID,
    ErrorCode.MFA_NOT_ENABLED,
    ErrorCode.MFA_REQUIRED_BY_POLICY,
  )
  async disableTotp(@Body() body: DisableTotpDto, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.mfa.disable(admin.id, body.code);
  }
}
