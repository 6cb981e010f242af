import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, UseGuards } from '@nestjs/common';
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
import { AdminAuthService, AdminPrincipal } from './admin-auth.service';
import { AdminGuard, CurrentAdmin } from './admin.guard';
import {
  ApiTokenResponseDto,
  CreateApiTokenDto,
  CreatedApiTokenResponseDto,
  ListSessionsQueryDto,
  SessionResponseDto,
} from './auth.dto';
import { AnyRole } from './roles';

@ApiTags('admin sessions')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin')
export class SessionsController {
  constructor(private readonly auth: AdminAuthService) {}

  @Get('sessions')
  @AnyRole()
  @ApiOperation({ summary: 'Your live sessions; owners may list everyone’s with all=true' })
  @ApiOkResponse({ type: [SessionResponseDto] })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  list(@Query() query: ListSessionsQueryDto, @CurrentAdmin() admin: AdminPrincipal): Promise<SessionResponseDto[]> {
    return this.auth.listSessions(admin, query.all === 'true');
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @AnyRole()
  @ApiOperation({ summary: 'End one of your sessions (owners: anyone’s)' })
  @ApiNoContentResponse()
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.SESSION_NOT_FOUND)
  async end(@Param('id', new ParseUUIDPipe()) id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.auth.endSession(admin, id);
  }

  @Post('tokens')
  @AnyRole()
  @ApiOperation({
    summary: 'Create a personal API token for scripts (a role no higher than yours); the token is shown once',
  })
  @ApiCreatedResponse({ type: CreatedApiTokenResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.ROLE_TOO_HIGH)
  create(@Body() body: CreateApiTokenDto, @CurrentAdmin() admin: AdminPrincipal): Promise<CreatedApiTokenResponseDto> {
    return this.auth.createToken(admin, body);
  }

  @Get('tokens')
  @AnyRole()
  @ApiOperation({ summary: 'Your live API tokens (never the token itself)' })
  @ApiOkResponse({ type: [ApiTokenResponseDto] })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  tokens(@CurrentAdmin() admin: AdminPrincipal): Promise<ApiTokenResponseDto[]> {
    return this.auth.listTokens(admin);
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  @AnyRole()
  @ApiOperation({ summary: 'Revoke one of your API tokens (owners: anyone’s)' })
  @ApiNoContentResponse()
  @ApiErrors(...ADMIN_ROUTE_ERRORS, ErrorCode.API_TOKEN_NOT_FOUND)
  async revoke(@Param('id', new ParseUUIDPipe()) id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.auth.revokeToken(admin, id);
  }
}
