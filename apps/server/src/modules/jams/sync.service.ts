import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { TransactionRunner } from '../../database/transaction-runner';
import { SyncItem, SyncKind } from './sync-item.entity';

interface KindSpec {
  /** Field naming the item. */
  key: string;
  keyPattern: RegExp;
  /** Second-resolution timestamp fields; each may come with a `<field>Ms` twin. */
  times: string[];
}

const SPECS: Record<SyncKind, KindSpec> = {
  contact: { key: 'uri', keyPattern: /^[0-9a-fA-F]{40}$/, times: ['added', 'removed'] },
  conversation: { key: 'id', keyPattern: /^[\w.:-]{1,128}$/, times: ['created', 'removed', 'erased'] },
  conversationRequest: { key: 'conversationId', keyPattern: /^[\w.:-]{1,128}$/, times: ['received', 'declined'] },
};

export const MAX_SYNC_ITEMS = 10_000;

/**
 * Per-user storage of what Jami devices sync through the server (contacts, conversations, conversation
 * requests). Merge rule of current clients: per item, the entry whose latest event is newer wins; ties keep
 * the incoming entry. The answer is the merged full list.
 */
@Injectable()
export class SyncService {
  constructor(
    @InjectRepository(SyncItem) private readonly items: Repository<SyncItem>,
    private readonly tx: TransactionRunner,
  ) {}

  async merge(userId: string, kind: SyncKind, body: unknown): Promise<Record<string, unknown>[]> {
    const items = this.validate(kind, body);
    await this.tx.run(async (m) => {
      for (const { key, data, updatedMs } of items) {
        await m.query(
          `INSERT INTO sync_items (user_id, kind, item_key, data, updated_ms) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (user_id, kind, item_key) DO UPDATE SET data = EXCLUDED.data, updated_ms = EXCLUDED.updated_ms
           WHERE EXCLUDED.updated_ms >= sync_items.updated_ms`,
          [userId, kind, key, data, updatedMs],
        );
      }
    });
    const rows = await this.items.find({ where: { userId, kind }, order: { itemKey: 'ASC' } });
    return rows.map((r) => r.data);
  }

  /** Checks the whole body before anything is written. */
  private validate(kind: SyncKind, body: unknown) {
    const spec = SPECS[kind];
    if (!Array.isArray(body)) throw new AppError(ErrorCode.BODY_INVALID, `The ${kind} list must be a JSON array`);
    if (body.length > MAX_SYNC_ITEMS) {
      throw new AppError(
        ErrorCode.BODY_INVALID,
        `At most ${MAX_SYNC_ITEMS} items may be synced at once (got ${body.length})`,
      );
    }
    return body.map((raw, i) => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new AppError(ErrorCode.BODY_INVALID, `Item ${i} must be a JSON object`);
      }
      const item = raw as Record<string, unknown>;
      if (JSON.stringify(item).includes('\\u0000')) {
        throw new AppError(ErrorCode.BODY_INVALID, `Item ${i} contains a NUL character`);
      }
      const key = item[spec.key];
      if (typeof key !== 'string' || !spec.keyPattern.test(key)) {
        throw new AppError(ErrorCode.BODY_INVALID, `Item ${i}: "${spec.key}" is missing or malformed`);
      }
      let updatedMs = 0;
      for (const field of spec.times) {
        for (const [name, scale] of [
          [field, 1000],
          [`${field}Ms`, 1],
        ] as const) {
          const v = item[name];
          if (v === undefined) continue;
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v * scale > Number.MAX_SAFE_INTEGER) {
            throw new AppError(
              ErrorCode.BODY_INVALID,
              `Item ${i}: "${name}" must be a non-negative integer (milliseconds up to 2^53)`,
            );
          }
          updatedMs = Math.max(updatedMs, v * scale);
        }
      }
      const normalizedKey = kind === 'contact' ? key.toLowerCase() : key;
      return { key: normalizedKey, data: { ...item, [spec.key]: normalizedKey }, updatedMs: String(updatedMs) };
    });
  }
}
