import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Res,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiDefaultResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { uuidParam } from '../../common/parse-uuid.pipe';
import { AdminGuard, CurrentAdmin } from '../auth/admin.guard';
import type { AdminPrincipal } from '../auth/admin-auth.service';
import { AdminOnly, AnyRole } from '../auth/roles';
import { LogosService, MAX_LOGO_BYTES } from './logos.service';
import {
  CreatePolicyDto,
  EffectivePolicyResponseDto,
  LogoResponseDto,
  PolicyPreviewResponseDto,
  PolicyResponseDto,
  PolicySourceDto,
  PolicyVersionResponseDto,
  SetDefaultPolicyDto,
  UpdatePolicyDto,
  UserPolicyDto,
  UserPolicyResponseDto,
} from './policy.dto';
import { PolicyService } from './policy.service';

const actorOf = (admin: AdminPrincipal) => `admin:${admin.username}`;

@ApiTags('admin')
@ApiBearerAuth()
@ApiDefaultResponse({ type: ErrorResponseDto, description: 'Error: `code` says which' })
@UseGuards(AdminGuard)
@Controller('api/admin/policies')
export class PoliciesController {
  constructor(
    private readonly policies: PolicyService,
    private readonly logos: LogosService,
  ) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: 'Policies (named, versioned sets of Jami daemon settings) with their groups' })
  @ApiOkResponse({ type: [PolicyResponseDto] })
  list(): Promise<PolicyResponseDto[]> {
    return this.policies.list();
  }

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a policy (version 1)' })
  @ApiCreatedResponse({ type: PolicyResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED naming each key at fault' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'POLICY_EXISTS' })
  create(@Body() body: CreatePolicyDto, @CurrentAdmin() admin: AdminPrincipal): Promise<PolicyResponseDto> {
    return this.policies.create(body, actorOf(admin));
  }

  @Post('logos')
  @AdminOnly()
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_LOGO_BYTES, files: 1, fields: 0 } }))
  @ApiOperation({
    summary: 'Upload a logo or background image for Account.uiCustomization (PNG, JPEG, SVG; ≤ 512 KiB)',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } },
  })
  @ApiCreatedResponse({ type: LogoResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'LOGO_INVALID: not a PNG, JPEG or SVG image' })
  @ApiPayloadTooLargeResponse({ type: ErrorResponseDto, description: 'BODY_TOO_LARGE: over 512 KiB' })
  uploadLogo(
    @UploadedFile() file: { buffer: Buffer } | undefined,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<LogoResponseDto> {
    return this.logos.upload(file?.buffer, actorOf(admin));
  }

  @Get('default')
  @AnyRole()
  @ApiOperation({ summary: 'The organization default policy' })
  @ApiOkResponse({ type: PolicyResponseDto })
  getDefault(): Promise<PolicyResponseDto> {
    return this.policies.getDefault();
  }

  @Put('default')
  @AdminOnly()
  @ApiOperation({ summary: 'Make a policy the organization default' })
  @ApiOkResponse({ type: PolicyResponseDto })
  setDefault(@Body() body: SetDefaultPolicyDto, @CurrentAdmin() admin: AdminPrincipal): Promise<PolicyResponseDto> {
    return this.policies.setDefault(body.policyId, actorOf(admin));
  }

  @Get(':id')
  @AnyRole()
  @ApiOperation({ summary: 'A policy' })
  @ApiOkResponse({ type: PolicyResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'POLICY_NOT_FOUND' })
  get(@Param('id', uuidParam()) id: string): Promise<PolicyResponseDto> {
    return this.policies.get(id);
  }

  @Put(':id')
  @AdminOnly()
  @ApiOperation({ summary: 'Save new settings (and optionally a new name): a new version' })
  @ApiOkResponse({ type: PolicyResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED naming each key at fault' })
  update(
    @Param('id', uuidParam()) id: string,
    @Body() body: UpdatePolicyDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<PolicyResponseDto> {
    return this.policies.update(id, body, actorOf(admin));
  }

  @Delete(':id')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a policy (refused while assigned to a group or the organization default)' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'POLICY_IN_USE' })
  async delete(@Param('id', uuidParam()) id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.policies.delete(id, actorOf(admin));
  }

  @Get(':id/versions')
  @AnyRole()
  @ApiOperation({ summary: "A policy's versions, newest first, each with its diff to the previous one" })
  @ApiOkResponse({ type: [PolicyVersionResponseDto] })
  versions(@Param('id', uuidParam()) id: string): Promise<PolicyVersionResponseDto[]> {
    return this.policies.listVersions(id);
  }

  @Get(':id/preview')
  @AnyRole()
  @ApiOperation({ summary: 'The daemon keys this policy delivers (people resolved to Jami IDs now)' })
  @ApiOkResponse({ type: PolicyPreviewResponseDto })
  preview(@Param('id', uuidParam()) id: string): Promise<PolicyPreviewResponseDto> {
    return this.policies.preview(id);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(PolicySourceDto)
@ApiDefaultResponse({ type: ErrorResponseDto, description: 'Error: `code` says which' })
@UseGuards(AdminGuard)
@Controller('api/admin/users/:username')
export class UserPoliciesController {
  constructor(private readonly policies: PolicyService) {}

  @Get('policy')
  @AnyRole()
  @ApiOperation({ summary: "The user's own settings (override over the default and group policies)" })
  @ApiOkResponse({ type: UserPolicyResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'USER_NOT_FOUND' })
  get(@Param('username') username: string): Promise<UserPolicyResponseDto> {
    return this.policies.getUserPolicy(username);
  }

  @Put('policy')
  @AdminOnly()
  @ApiOperation({ summary: "Set the user's override (replaces it)" })
  @ApiOkResponse({ type: UserPolicyResponseDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'VALIDATION_FAILED naming each key at fault' })
  set(
    @Param('username') username: string,
    @Body() body: UserPolicyDto,
    @CurrentAdmin() admin: AdminPrincipal,
  ): Promise<UserPolicyResponseDto> {
    return this.policies.setUserPolicy(username, body.settings, actorOf(admin));
  }

  @Delete('policy')
  @AdminOnly()
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the user's override" })
  @ApiNoContentResponse()
  async clear(@Param('username') username: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.policies.deleteUserPolicy(username, actorOf(admin));
  }

  @Get('effective-policy')
  @AnyRole()
  @ApiOperation({ summary: "The daemon keys the user's devices receive and, for each key, which policy set it" })
  @ApiOkResponse({ type: EffectivePolicyResponseDto })
  effective(@Param('username') username: string): Promise<EffectivePolicyResponseDto> {
    return this.policies.effectiveForUsername(username);
  }
}

@ApiTags('branding')
@ApiDefaultResponse({ type: ErrorResponseDto, description: 'Error: `code` says which' })
@Controller('api/branding')
export class BrandingController {
  constructor(private readonly logos: LogosService) {}

  @Get('logos/:id')
  @ApiOperation({ summary: 'An uploaded logo (public: Jami clients load it without credentials)' })
  @ApiProduces('image/png', 'image/jpeg', 'image/svg+xml')
  @ApiOkResponse({ description: 'The image', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'LOGO_NOT_FOUND' })
  async logo(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const logo = await this.logos.get(id);
    res.setHeader('content-type', logo.contentType);
    res.setHeader('x-content-type-options', 'nosniff');
    // An SVG opened directly must not run scripts or load anything.
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    res.setHeader('etag', `"${logo.sha256}"`);
    res.status(200).end(logo.data);
  }
}
