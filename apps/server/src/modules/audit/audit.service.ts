import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { currentRequest } from '../../common/request-context';
import { AuditActionCount } from './audit-action-count.entity';
import { AuditEvent } from './audit-event.entity';
import { AuditEventResponseDto, AuditFilterQueryDto } from './audit.dto';
import { ChainedContent, chainHash, GENESIS_HASH, storableJson, storableText } from './audit-chain';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
  /** The changed object's state before and after the change (omitted for creations / deletions). */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Filters shared by the list and the export (already validated by the DTOs). */
export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** ISO 8601, inclusive */
  from?: string;
  /** ISO 8601, exclusive */
  to?: string;
}

export interface AuditPage {
  items: AuditEvent[];
  nextCursor: string | null;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBrokenId?: string;
  /** The last row checked and its hash (when ok): keep it elsewhere to detect later rewrites of the tail. */
  lastId?: string;
  lastHash?: string;
}

/** One advisory lock serialises every append to the chain, across transactions and server processes. */
const CHAIN_LOCK = 'enclave:audit-chain';
const CURSOR_PREFIX = 'a1:';
const BIGINT_MAX = 9223372036854775807n;

const COLUMNS =
  'id::text AS id, at, actor, action, target, details, before, after, request_id, address, prev_hash, hash';

interface RawRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  address: string | null;
  prev_hash: string;
  hash: string;
}

const content = (r: RawRow): ChainedContent => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  details: r.details,
  before: r.before,
  after: r.after,
  requestId: r.request_id,
  address: r.address,
});

const fit = (s: string, max: number) => storableText(s.slice(0, max));

export function encodeCursor(id: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`, 'utf8').toString('base64url');
}

/** The id behind a cursor from encodeCursor; a 400 naming `cursor` for anything else. */
export function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!/^[1-9][0-9]{0,18}$/.test(id) || BigInt(id) > BIGINT_MAX) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'cursor must be a nextCursor returned by GET /api/admin/audit', {
      problems: ['cursor must be a nextCursor returned by GET /api/admin/audit'],
    });
  }
  return id;
}

/** A timestamp filter as a Date PostgreSQL can compare; a 400 naming the field otherwise. */
function timestamp(value: string, field: 'from' | 'to'): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1 || d.getUTCFullYear() > 9999) {
    const message = `${field} must be an ISO 8601 date-time between years 1 and 9999`;
    throw new AppError(ErrorCode.VALIDATION_FAILED, message, { problems: [message] });
  }
  return d;
}

export const filterOf = (q: AuditFilterQueryDto): AuditFilter => ({
  actor: q.actor,
  action: q.action,
  target: q.target,
  from: q.from,
  to: q.to,
});

export function toAuditEventDto(e: AuditEvent): AuditEventResponseDto {
  return {
    id: e.id,
    at: e.at.toISOString(),
    actor: e.actor,
    action: e.action,
    target: e.target,
    details: e.details,
    before: e.before,
    after: e.after,
    requestId: e.requestId,
    address: e.address,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/**
 * The tamper-evident audit log: every state change and sign-in, with the request it came from, in a hash
 * chain that GET /api/admin/audit/verify recomputes.
 */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /**
   * Records an event, inside the caller's transaction when a manager is given (the row then commits or
   * rolls back with the change it describes). The request id and source address come from the current
   * HTTP request's context (null outside a request).
   *
   * The append holds the chain's advisory lock until that transaction ends, so concurrent transactions
   * (in this or another process) append one after the other: each reads the row committed last and
   * chains to it. Record the event at the end of the transaction to hold the lock briefly, and inside a
   * transaction always pass its manager: a second, manager-less record would wait for the lock that the
   * caller's own transaction holds.
   */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const m = manager ?? this.events.manager;
    if (!m.queryRunner?.isTransactionActive) {
      await m.transaction((t) => this.append(entry, t));
      return;
    }
    await this.append(entry, m);
  }

  private async append(entry: AuditEntry, m: EntityManager): Promise<void> {
    const [{ isolation }] = (await m.query(
      `SELECT pg_advisory_xact_lock(hashtext($1)), current_setting('transaction_isolation') AS isolation`,
      [CHAIN_LOCK],
    )) as { isolation: string }[];
    if (isolation !== 'read committed') {
      // A snapshot older than the lock would not see the last row another transaction appended: a fork.
      throw new Error(`AuditService.record needs a READ COMMITTED transaction, not ${isolation}`);
    }
    // Under the lock, this statement's fresh snapshot sees the row appended last (by whichever process).
    const [{ last, id }] = (await m.query(
      `SELECT (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) AS last,
              nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS id`,
    )) as { last: string | null; id: string }[];
    const ctx = currentRequest();
    const row: ChainedContent = {
      id,
      at: new Date(),
      actor: fit(entry.actor, 100),
      action: fit(entry.action, 64),
      target: entry.target === undefined || entry.target === null ? null : fit(entry.target, 200),
      details: storableJson(entry.details) ?? null,
      before: storableJson(entry.before) ?? null,
      after: storableJson(entry.after) ?? null,
      requestId: ctx ? fit(ctx.requestId, 128) : null,
      address: ctx ? fit(ctx.address, 64) : null,
    };
    const prevHash = last ?? GENESIS_HASH;
    const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
    await m.query(
      `INSERT INTO audit_events (id, at, actor, action, target, details, before, after, request_id, address, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        row.id,
        row.at,
        row.actor,
        row.action,
        row.target,
        json(row.details),
        json(row.before),
        json(row.after),
        row.requestId,
        row.address,
        prevHash,
        chainHash(row, prevHash),
      ],
    );
  }

  /**
   * Recomputes the chain in id order, batch by batch (memory stays flat however long the log is). The
   * first row whose hash does not match its content, or whose prev_hash is not the previous row's hash,
   * is the first broken one: an edited row breaks itself, a deleted row breaks the row after it, an
   * inserted row breaks itself (or, if its hash was forged correctly, the row after it).
   */
  async verify(batchSize = 2000): Promise<ChainVerification> {
    let prev = GENESIS_HASH;
    let lastId = '0';
    let checked = 0;
    for (;;) {
      const rows = (await this.events.query(
        `SELECT ${COLUMNS} FROM audit_events WHERE id > $1 ORDER BY audit_events.id LIMIT $2`,
        [lastId, batchSize],
      )) as RawRow[];
      for (const r of rows) {
        checked++;
        if (r.prev_hash !== prev || chainHash(content(r), r.prev_hash) !== r.hash) {
          return { ok: false, checked, firstBrokenId: r.id };
        }
        prev = r.hash;
        lastId = r.id;
      }
      if (rows.length < batchSize) break;
    }
    return checked ? { ok: true, checked, lastId, lastHash: prev } : { ok: true, checked };
  }

  /** Newest first; `cursor` continues after the last item of the previous page. */
  async list(filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> {
    const qb = this.filtered(filter);
    if (cursor !== undefined) qb.andWhere('e.id < :cursor', { cursor: decodeCursor(cursor) });
    const rows = await qb.limit(limit + 1).getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
  }

  /**
   * Every matching event, newest first, fetched in batches as the consumer pulls them. The body runs at the
   * first pull: call checkFilter first so a bad filter is a 400, not a broken stream.
   */
  async *stream(filter: AuditFilter, batchSize = 1000): AsyncGenerator<AuditEvent> {
    const base = this.filtered(filter);
    let below: string | undefined;
    for (;;) {
      const qb = base.clone();
      if (below !== undefined) qb.andWhere('e.id < :below', { below });
      const rows = await qb.limit(batchSize).getMany();
      yield* rows;
      if (rows.length < batchSize) return;
      below = rows[rows.length - 1].id;
    }
  }

  async *streamDtos(filter: AuditFilter): AsyncGenerator<AuditEventResponseDto> {
    for await (const e of this.stream(filter)) yield toAuditEventDto(e);
  }

  /** Checks a filter (400 naming the field); call before streaming so errors come before the headers. */
  checkFilter(filter: AuditFilter): void {
    this.filtered(filter);
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditEvent> {
    const qb = this.events.createQueryBuilder('e').orderBy('e.id', 'DESC');
    if (filter.actor !== undefined) qb.andWhere('e.actor = :actor', { actor: filter.actor });
    if (filter.action !== undefined) qb.andWhere('e.action = :action', { action: filter.action });
    if (filter.target !== undefined) qb.andWhere('e.target = :target', { target: filter.target });
    const from = filter.from === undefined ? undefined : timestamp(filter.from, 'from');
    const to = filter.to === undefined ? undefined : timestamp(filter.to, 'to');
    if (from && to && from > to) {
      const message = 'from must not be after to';
      throw new AppError(ErrorCode.VALIDATION_FAILED, message, { problems: [message] });
    }
    if (from) qb.andWhere('e.at >= :from', { from });
    if (to) qb.andWhere('e.at < :to', { to });
    return qb;
  }

  // --- Read model for /metrics (metrics work): counts kept by triggers, see AuditActionCount. ---

  /** How many audit events each action has, over the whole log (every replica's, since the first start). */
  async countByAction(): Promise<Map<string, number>> {
    const rows = await this.events.manager
      .getRepository(AuditActionCount)
      .createQueryBuilder('c')
      .select('c.action', 'action')
      .addSelect('SUM(c.count)', 'count')
      .groupBy('c.action')
      .getRawMany<{ action: string; count: string }>();
    return new Map(rows.map((r) => [r.action, Number(r.count)]));
  }
}
