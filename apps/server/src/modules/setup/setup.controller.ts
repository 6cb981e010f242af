import { clientAddress } from '../../common/client-address';
import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { TokenResponseDto } from '../auth/auth.dto';
import { ServerInfoDto, SetupDto, SetupStateDto } from './setup.dto';
import { SetupService } from './setup.service';

const VERSION: string = (require('../../../package.json') as { version: string }).version;

@ApiTags('setup')
@Controller('api')
export class SetupController {
  constructor(private readonly setup: SetupService) {}

  @Get('info')
  @ApiOperation({ summary: 'Public server information: whether setup is needed, organization name' })
  @ApiOkResponse({ type: ServerInfoDto })
  @ApiErrors(ErrorCode.TOKEN_IN_QUERY)
  async info(): Promise<ServerInfoDto> {
    return {
      setupRequired: !(await this.setup.isSetUp()),
      organization: await this.setup.organization(),
      version: VERSION,
    };
  }

  @Get('setup')
  @ApiOperation({ summary: 'Setup state; 404 once the server is set up' })
  @ApiOkResponse({ type: SetupStateDto })
  @ApiErrors(ErrorCode.TOKEN_IN_QUERY, ErrorCode.ALREADY_SET_UP)
  async state(): Promise<SetupStateDto> {
    await this.setup.assertSetupOpen();
    return { setupRequired: true };
  }

  @Post('setup')
  @ApiOperation({
    summary:
      'First setup with the one-time setup code: the first admin (owner), the organization CA (generated or imported)',
  })
  @ApiCreatedResponse({ type: TokenResponseDto, description: 'A session for the new admin (an owner)' })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.BODY_INVALID,
    ErrorCode.USERNAME_INVALID,
    ErrorCode.PASSWORD_TOO_SHORT,
    ErrorCode.CA_INVALID,
    ErrorCode.TOKEN_IN_QUERY,
    ErrorCode.SETUP_CODE_INVALID,
    ErrorCode.ALREADY_SET_UP,
  )
  complete(@Body() body: SetupDto, @Req() req: Request): Promise<TokenResponseDto> {
    return this.setup.completeWithCode(body, `setup:${clientAddress(req)}`);
  }
}
