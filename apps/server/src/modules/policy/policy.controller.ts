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
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
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

const AUTH = [ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN] as const;
const V = ErrorCode.VALIDATION_FAILED;
const actorOf = (admin: AdminPrincipal) => `admin:${admin.username}`;

@ApiTags('admin')
@ApiBearerAuth()
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
  @ApiErrors(...AUTH)
  list(): Promise<PolicyResponseDto[]> {
    return this.policies.list();
  }

  @Post()
  @AdminOnly()
  @ApiOperation({ summary: 'Create a policy (version 1)' })
  @ApiCreatedResponse({ type: PolicyResponseDto })
  @ApiErrors(V, ErrorCode.POLICY_EXISTS, ...AUTH)
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
  @ApiErrors(V, ErrorCode.LOGO_INVALID, ErrorCode.BODY_TOO_LARGE, ...AUTH)
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
  @ApiErrors(ErrorCode.POLICY_NOT_FOUND, ...AUTH)
  getDefault(): Promise<PolicyResponseDto> {
    return this.policies.getDefault();
  }

  @Put('default')
  @AdminOnly()
  @ApiOperation({ summary: 'Make a policy the organization default' })
  @ApiOkResponse({ type: PolicyResponseDto })
  @ApiErrors(V, ...AUTH)
  setDefault(@Body() body: SetDefaultPolicyDto, @CurrentAdmin() admin: AdminPrincipal): Promise<PolicyResponseDto> {
    return this.policies.setDefault(body.policyId, actorOf(admin));
  }

  @Get(':id')
  @AnyRole()
  @ApiOperation({ summary: 'A policy' })
  @ApiOkResponse({ type: PolicyResponseDto })
  @ApiErrors(V, ErrorCode.POLICY_NOT_FOUND, ...AUTH)
  get(@Param('id', uuidParam()) id: string): Promise<PolicyResponseDto> {
    return this.policies.get(id);
  }

  @Put(':id')
  @AdminOnly()
  @ApiOperation({ summary: 'Save new settings (and optionally a new name): a new version' })
  @ApiOkResponse({ type: PolicyResponseDto })
  @ApiErrors(V, ErrorCode.POLICY_NOT_FOUND, ErrorCode.POLICY_EXISTS, ...AUTH)
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
  @ApiErrors(V, ErrorCode.POLICY_NOT_FOUND, ErrorCode.POLICY_IN_USE, ...AUTH)
  async delete(@Param('id', uuidParam()) id: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.policies.delete(id, actorOf(admin));
  }

  @Get(':id/versions')
  @AnyRole()
  @ApiOperation({ summary: "A policy's versions, newest first, each with its diff to the previous one" })
  @ApiOkResponse({ type: [PolicyVersionResponseDto] })
  @ApiErrors(V, ErrorCode.POLICY_NOT_FOUND, ...AUTH)
  versions(@Param('id', uuidParam()) id: string): Promise<PolicyVersionResponseDto[]> {
    return this.policies.listVersions(id);
  }

  @Get(':id/preview')
  @AnyRole()
  @ApiOperation({ summary: 'The daemon keys this policy delivers (people resolved to Jami IDs now)' })
  @ApiOkResponse({ type: PolicyPreviewResponseDto })
  @ApiErrors(V, ErrorCode.POLICY_NOT_FOUND, ...AUTH)
  preview(@Param('id', uuidParam()) id: string): Promise<PolicyPreviewResponseDto> {
    return this.policies.preview(id);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(PolicySourceDto)
@UseGuards(AdminGuard)
@Controller('api/admin/users/:username')
export class UserPoliciesController {
  constructor(private readonly policies: PolicyService) {}

  @Get('policy')
  @AnyRole()
  @ApiOperation({ summary: "The user's own settings (override over the default and group policies)" })
  @ApiOkResponse({ type: UserPolicyResponseDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  get(@Param('username') username: string): Promise<UserPolicyResponseDto> {
    return this.policies.getUserPolicy(username);
  }

  @Put('policy')
  @AdminOnly()
  @ApiOperation({ summary: "Set the user's override (replaces it)" })
  @ApiOkResponse({ type: UserPolicyResponseDto })
  @ApiErrors(V, ErrorCode.USER_NOT_FOUND, ...AUTH)
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
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  async clear(@Param('username') username: string, @CurrentAdmin() admin: AdminPrincipal): Promise<void> {
    await this.policies.deleteUserPolicy(username, actorOf(admin));
  }

  @Get('effective-policy')
  @AnyRole()
  @ApiOperation({ summary: "The daemon keys the user's devices receive and, for each key, which policy set it" })
  @ApiOkResponse({ type: EffectivePolicyResponseDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ...AUTH)
  effective(@Param('username') username: string): Promise<EffectivePolicyResponseDto> {
    return this.policies.effectiveForUsername(username);
  }
}

@ApiTags('branding')
@Controller('api/branding')
export class BrandingController {
  constructor(private readonly logos: LogosService) {}

  @Get('logos/:id')
  @ApiOperation({ summary: 'An uploaded logo (public: Jami clients load it without credentials)' })
  @ApiProduces('image/png', 'image/jpeg', 'image/svg+xml')
  @ApiOkResponse({ description: 'The image', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(ErrorCode.LOGO_NOT_FOUND)
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
