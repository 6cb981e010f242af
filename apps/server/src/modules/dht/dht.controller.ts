import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { AdminGuard } from '../auth/admin.guard';
import { AnyRole } from '../auth/roles';
import { DhtStatusResponseDto } from './dht.dto';
import { DhtService } from './dht.service';

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
