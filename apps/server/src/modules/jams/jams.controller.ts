import { X509Certificate } from 'node:crypto';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { createValidationPipe } from '../../common/validation';
import type { User } from '../users/user.entity';
import { CurrentJams, JamsAuthGuard, JamsPrincipal, RequireScope } from './jams-auth.guard';
import {
  DirectorySearchResponseDto,
  EnrollDeviceDto,
  EnrollmentResponseDto,
  JamsDeviceDto,
  JamsTokenDto,
  RevokeResultDto,
} from './jams.dto';
import { EnrollmentAnswer, JamsService } from './jams.service';
import { RoomsService } from '../rooms/rooms.service';
import { SyncService } from './sync.service';
import { BasicCredentials, BasicUser, ClientAddress, ClientCertificate, UserBasicGuard } from './user-basic.guard';

const syncBody = { schema: { type: 'array', items: { type: 'object', additionalProperties: true } } };

/** The JAMS client protocol, with the exact shapes and status codes Jami clients expect. */
@ApiTags('jams')
@Controller('api')
export class JamsController {
  constructor(
    private readonly jams: JamsService,
    private readonly sync: SyncService,
    private readonly rooms: RoomsService,
  ) {}

  @Post('auth/device')
  @HttpCode(200)
  @ApiBasicAuth()
  @UseGuards(UserBasicGuard)
  @BasicCredentials({ missing: 'HTTP Basic credentials are required to enroll a device' })
  @ApiOperation({ summary: 'Enroll a device: CSR in, certificate chain, receipt and policy out' })
  @ApiOkResponse({ type: EnrollmentResponseDto })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.BODY_INVALID,
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.INVALID_CREDENTIALS,
    ErrorCode.USER_SUSPENDED,
    ErrorCode.TOO_MANY_ATTEMPTS,
    ErrorCode.DEVICE_KEY_IN_USE,
    ErrorCode.DEVICE_KEY_REVOKED,
    ErrorCode.DEVICE_KEY_FORBIDDEN,
    ErrorCode.DEVICE_ENROLLMENT_CONFLICT,
    ErrorCode.DIRECTORY_UNAVAILABLE,
  )
  enroll(
    @BasicUser() user: User,
    @Body(createValidationPipe({ allowUnknown: true })) body: EnrollDeviceDto,
  ): Promise<EnrollmentAnswer> {
    return this.jams.enroll(user, body);
  }

  @Post('login')
  @HttpCode(200)
  @ApiBasicAuth()
  @UseGuards(UserBasicGuard)
  @BasicCredentials({ optional: true, rejectedAs: ErrorCode.CREDENTIALS_REJECTED })
  @ApiOperation({ summary: 'Token: device TLS client certificate → DEVICE, Basic → USER' })
  @ApiOkResponse({ type: JamsTokenDto })
  @ApiErrors(
    ErrorCode.UNAUTHENTICATED,
    ErrorCode.CREDENTIALS_REJECTED,
    ErrorCode.DEVICE_UNKNOWN,
    ErrorCode.DEVICE_REVOKED,
    ErrorCode.DEVICE_CERTIFICATE_EXPIRED,
    ErrorCode.USER_SUSPENDED,
    ErrorCode.TOO_MANY_ATTEMPTS,
  )
  login(
    @BasicUser() user: User | null,
    @ClientCertificate() peer: X509Certificate | undefined,
    @ClientAddress() ip: string,
  ): Promise<JamsTokenDto> {
    return this.jams.login(user, peer, ip);
  }

  @Get('auth/devices')
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiOperation({ summary: "The caller's devices, revoked ones flagged" })
  @ApiOkResponse({ type: [JamsDeviceDto] })
  @ApiErrors(ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  devices(@CurrentJams() p: JamsPrincipal): Promise<JamsDeviceDto[]> {
    return this.jams.devices(p.user);
  }

  @Delete('auth/device/:deviceId')
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @RequireScope('USER')
  @ApiOperation({ summary: 'Revoke one of the caller’s devices (USER token)' })
  @ApiOkResponse({ type: RevokeResultDto })
  @ApiErrors(ErrorCode.UNAUTHENTICATED, ErrorCode.SCOPE_INSUFFICIENT, ErrorCode.DEVICE_NOT_FOUND)
  async revoke(@CurrentJams() p: JamsPrincipal, @Param('deviceId') deviceId: string): Promise<RevokeResultDto> {
    await this.jams.revokeOwnDevice(p.user, deviceId);
    return { success: true };
  }

  @Post('auth/contacts')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiBody(syncBody)
  @ApiOperation({ summary: 'Merge the device’s contacts; answers the merged list' })
  @ApiErrors(ErrorCode.BODY_INVALID, ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  contacts(@CurrentJams() p: JamsPrincipal, @Body() body: unknown): Promise<Record<string, unknown>[]> {
    // rooms: a room's contacts are exactly its members (none when everyone may call).
    if (p.user.kind === 'room') return this.rooms.contacts(p.user);
    return this.sync.merge(p.user.id, 'contact', body);
  }

  @Post('auth/conversations')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiBody(syncBody)
  @ApiOperation({ summary: 'Merge the device’s conversations; answers the merged list' })
  @ApiErrors(ErrorCode.BODY_INVALID, ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  conversations(@CurrentJams() p: JamsPrincipal, @Body() body: unknown): Promise<Record<string, unknown>[]> {
    return this.sync.merge(p.user.id, 'conversation', body);
  }

  @Post('auth/conversationRequests')
  @HttpCode(200)
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiBody(syncBody)
  @ApiOperation({ summary: 'Merge the device’s conversation requests; answers the merged list' })
  @ApiErrors(ErrorCode.BODY_INVALID, ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  conversationRequests(@CurrentJams() p: JamsPrincipal, @Body() body: unknown): Promise<Record<string, unknown>[]> {
    return this.sync.merge(p.user.id, 'conversationRequest', body);
  }

  @Get('auth/policyData')
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiOperation({ summary: 'The organization policy as flat Jami daemon keys' })
  @ApiErrors(ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  @ApiOkResponse({
    schema: {
      type: 'object',
      additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    },
  })
  policyData(@CurrentJams() p: JamsPrincipal) {
    return this.jams.policyData(p.user);
  }

  @Get('auth/directory/search')
  @ApiBearerAuth()
  @UseGuards(JamsAuthGuard)
  @ApiOperation({ summary: 'Search the organization directory (enrolled users)' })
  @ApiOkResponse({ type: DirectorySearchResponseDto })
  @ApiErrors(ErrorCode.UNAUTHENTICATED, ErrorCode.DEVICE_REVOKED)
  async search(@Query('queryString') queryString?: string): Promise<DirectorySearchResponseDto> {
    return { profiles: await this.jams.search(queryString) };
  }
}
