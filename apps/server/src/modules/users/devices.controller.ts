import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { AdminGuard } from '../auth/admin.guard';
import { AnyRole } from '../auth/roles';
import { DevicesService } from './devices.service';
import { DeviceListResponseDto, ListDevicesQueryDto } from './users.dto';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @AnyRole()
  @ApiOperation({ summary: "The organization's devices with owner, last login and certificate expiry (keyset pages)" })
  @ApiOkResponse({ type: DeviceListResponseDto })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN)
  list(@Query() query: ListDevicesQueryDto): Promise<DeviceListResponseDto> {
    return this.devices.list(query);
  }
}
