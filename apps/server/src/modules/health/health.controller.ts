import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../../common/error-response.dto';
import { HealthService, ReadinessDto } from './health.service';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @ApiOperation({
    summary: 'Liveness: the process serves HTTP and its embedded PostgreSQL (when embedded) is running',
  })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } } })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'DATABASE_UNAVAILABLE: the embedded PostgreSQL is down and being restarted (reason in details)',
  })
  live(): { status: 'ok' } {
    return this.health.liveness();
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: database reachable and every migration applied' })
  @ApiOkResponse({ type: ReadinessDto })
  @ApiServiceUnavailableResponse({ description: 'NOT_READY, with the failing checks in details' })
  ready(): Promise<ReadinessDto> {
    return this.health.readiness();
  }
}
