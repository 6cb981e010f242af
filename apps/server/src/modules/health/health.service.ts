import { Inject, Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { DATABASE_HEALTH } from '../../database/database.tokens';
import type { DatabaseHealth } from '../../database/postgres-supervisor';

export class ReadinessDto {
  @ApiProperty({ example: 'ready' })
  status: 'ready';

  @ApiProperty({ example: { database: 'ok', migrations: 'ok' } })
  checks: Record<string, string>;
}

@Injectable()
export class HealthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(DATABASE_HEALTH) private readonly databaseHealth: (() => DatabaseHealth) | null,
  ) {}

  /** 503 while the supervised embedded PostgreSQL is down (its supervisor is restarting it). */
  liveness(): { status: 'ok' } {
    const db = this.databaseHealth?.();
    if (db && db.state !== 'up') {
      throw new AppError(ErrorCode.DATABASE_UNAVAILABLE, `The embedded PostgreSQL is ${db.state}`, {
        database: db.state,
        reason: db.reason,
        restarts: db.restarts,
      });
    }
    return { status: 'ok' };
  }

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
