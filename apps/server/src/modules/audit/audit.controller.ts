import { Controller, Get, Query, StreamableFile, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ADMIN_ROUTE_ERRORS, ApiErrors } from '../../common/error-response.dto';
import { AdminGuard } from '../auth/admin.guard';
import { AdminRole, Roles } from '../auth/roles';
import {
  AuditEventResponseDto,
  AuditPageResponseDto,
  AuditVerificationResponseDto,
  ExportAuditQueryDto,
  ListAuditQueryDto,
} from './audit.dto';
import { exportStream } from './audit-export';
import { AuditService, filterOf, toAuditEventDto } from './audit.service';

const AUDIT_READERS = [AdminRole.OWNER, AdminRole.ADMIN, AdminRole.AUDITOR];

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Roles(...AUDIT_READERS)
  @ApiOperation({ summary: 'Audit events, newest first, filtered; cursor pagination' })
  @ApiOkResponse({ type: AuditPageResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  async list(@Query() query: ListAuditQueryDto): Promise<AuditPageResponseDto> {
    const page = await this.audit.list(filterOf(query), query.limit ?? 50, query.cursor);
    return { items: page.items.map(toAuditEventDto), nextCursor: page.nextCursor };
  }

  @Get('export')
  @Roles(...AUDIT_READERS)
  @ApiOperation({ summary: 'Every matching audit event, newest first, streamed as a CSV or JSON attachment' })
  @ApiProduces('application/json', 'text/csv')
  @ApiExtraModels(AuditEventResponseDto)
  @ApiOkResponse({
    description: 'A JSON array of audit events (format=json), or a CSV with a header row (format=csv)',
    content: {
      'application/json': { schema: { type: 'array', items: { $ref: getSchemaPath(AuditEventResponseDto) } } },
      'text/csv': { schema: { type: 'string' } },
    },
  })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  export(@Query() query: ExportAuditQueryDto): StreamableFile {
    const filter = filterOf(query);
    this.audit.checkFilter(filter);
    const format = query.format ?? 'json';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    return new StreamableFile(exportStream(this.audit.streamDtos(filter), format), {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      disposition: `attachment; filename="audit-${stamp}.${format}"`,
    });
  }

  @Get('verify')
  @Roles(...AUDIT_READERS)
  @ApiOperation({ summary: "Recompute the audit log's hash chain; names the first row that does not verify" })
  @ApiOkResponse({ type: AuditVerificationResponseDto })
  @ApiErrors(...ADMIN_ROUTE_ERRORS)
  verify(): Promise<AuditVerificationResponseDto> {
    return this.audit.verify();
  }
}
