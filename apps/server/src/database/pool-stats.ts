import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

export interface PoolStats {
  /** Open connections (idle + in use). */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  max: number;
}

/** Usage of the node-postgres pool behind a TypeORM PostgreSQL data source (its driver's `master` pool). */
export function poolStats(dataSource: DataSource): PoolStats | null {
  const pool = (dataSource.driver as unknown as { master?: Pool & { options?: { max?: number } } }).master;
  if (!pool) return null;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options?.max ?? 10 };
}
