import { Controller, Get, Query, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponses } from '../../common/error-response.dto';
import { AdminGuard } from '../auth/admin.guard';
import { AdminRole, Roles } from '../auth/roles';
import {
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
  @ApiErrorResponses(400, 401, 403)
  async list(@Query() query: ListAuditQueryDto): Promise<AuditPageResponseDto> {
    const page = await this.audit.list(filterOf(query), query.limit ?? 50, query.cursor);
    return { items: page.items.map(toAuditEventDto), nextCursor: page.nextCursor };
  }

  @Get('export')
  @Roles(...AUDIT_READERS)
  @ApiOperation({ summary: 'Every matching audit event, newest first, streamed as a CSV or JSON attachment' })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ description: 'A JSON array of audit events, or a CSV with a header row' })
  @ApiErrorResponses(400, 401, 403)
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
  @ApiErrorResponses(401, 403)
  verify(): Promise<AuditVerificationResponseDto> {
    return this.audit.verify();
  }
}
