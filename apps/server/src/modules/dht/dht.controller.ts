import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { AdminGuard } from '../auth/admin.guard';
import { AnyRole } from '../auth/roles';
import { DhtStatusResponseDto, UserPresenceResponseDto } from './dht.dto';
import { DhtService } from './dht.service';
import { PresenceService } from './presence.service';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/dht')
export class DhtController {
  constructor(private readonly dht: DhtService) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: "The server's DHT node: id, UDP port, routing-table size, stored values" })
  @ApiOkResponse({ type: DhtStatusResponseDto })
  @ApiErrors(ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN)
  status(): DhtStatusResponseDto {
    return this.dht.status();
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/users/:username')
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get('presence')
  @AnyRole()
  @ApiOperation({
    summary: "Whether the user's devices are announced on the DHT now (one DHT get at the account id, cached 30 s)",
  })
  @ApiOkResponse({ type: UserPresenceResponseDto })
  @ApiErrors(ErrorCode.USER_NOT_FOUND, ErrorCode.DHT_DISABLED, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN)
  get(@Param('username') username: string): Promise<UserPresenceResponseDto> {
    return this.presence.ofUser(username);
  }
}
