import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';

export class ReadinessDto {
  @ApiProperty({ example: 'ready' })
  status: 'ready';

  @ApiProperty({ example: { database: 'ok', migrations: 'ok' } })
  checks: Record<string, string>;
}

@Injectable()
export class HealthService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async readiness(): Promise<ReadinessDto> {
    const checks: Record<string, string> = {};
    try {
      await this.dataSource.query('SELECT 1');
      checks.database = 'ok';
    } catch (err) {
      checks.database = `unreachable: ${(err as Error).message}`;
    }
    if (checks.database === 'ok') {
      try {
        checks.migrations = (await this.dataSource.showMigrations()) ? 'pending' : 'ok';
      } catch (err) {
        checks.migrations = `unknown: ${(err as Error).message}`;
      }
    } else {
      checks.migrations = 'unknown';
    }
    if (Object.values(checks).some((v) => v !== 'ok')) {
      throw new AppError(ErrorCode.NOT_READY, 'Not ready', { checks });
    }
    return { status: 'ready', checks };
  }
}
