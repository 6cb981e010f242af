import { clientAddress } from '../../common/client-address';
import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { AdminAuthService } from './admin-auth.service';
import { AdminLoginDto, TokenResponseDto } from './auth.dto';

@ApiTags('admin')
@Controller('api/admin')
export class AuthController {
  constructor(private readonly auth: AdminAuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Admin login: returns a bearer token for the admin API' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiUnauthorizedResponse({ description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_ATTEMPTS, with Retry-After' })
  login(@Body() body: AdminLoginDto, @Req() req: Request): Promise<TokenResponseDto> {
    return this.auth.login(body.username, body.password, clientAddress(req));
  }
}
