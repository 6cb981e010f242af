import { clientAddress } from '../../common/client-address';
import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
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
  @ApiNotFoundResponse({ description: 'ALREADY_SET_UP' })
  async state(): Promise<SetupStateDto> {
    await this.setup.assertSetupOpen();
    return { setupRequired: true };
  }

  @Post('setup')
  @ApiOperation({ summary: 'First setup: the first admin, the organization CA (generated or imported)' })
  @ApiCreatedResponse({ type: TokenResponseDto, description: 'A token for the new admin' })
  @ApiNotFoundResponse({ description: 'ALREADY_SET_UP' })
  complete(@Body() body: SetupDto, @Req() req: Request): Promise<TokenResponseDto> {
    return this.setup.completeWithCode(body, `setup:${clientAddress(req)}`);
  }
}
