import { MigrationInterface, QueryRunner } from 'typeorm';
import { chainHash, GENESIS_HASH } from '../apps/server/src/modules/audit/audit-chain';

/**
 * The audit log becomes a hash chain and records before/after, request id and source address. The rows
 * written before this migration are hashed here, in id order (their `at` first cut to the millisecond a
 * JavaScript Date holds), so the chain starts at the first row ever recorded; only then do the hash
 * columns become NOT NULL.
 */
export class AuditChain1796670981959 implements MigrationInterface {
  name = 'AuditChain1796670981959';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "before" jsonb`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "after" jsonb`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "request_id" character varying(128)`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "address" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "prev_hash" character(64)`);
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "hash" character(64)`);
    await queryRunner.query(`UPDATE "audit_events" SET "at" = date_trunc('milliseconds', "at")`);
    await this.hashExistingRows(queryRunner);
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "prev_hash" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "hash" SET NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_audit_events_target" ON "audit_events" ("target", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_events_action" ON "audit_events" ("action", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_events_actor" ON "audit_events" ("actor", "id")`);
  }

  private async hashExistingRows(queryRunner: QueryRunner): Promise<void> {
    let prev = GENESIS_HASH;
    let lastId = '0';
    for (;;) {
      const rows: {
        id: string;
        at: Date;
        actor: string;
        action: string;
        target: string | null;
        details: unknown;
      }[] = await queryRunner.query(
        `SELECT id::text AS id, at, actor, action, target, details FROM "audit_events" WHERE id > $1 ORDER BY audit_events.id LIMIT 1000`,
        [lastId],
      );
      if (!rows.length) return;
      const ids: string[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of rows) {
        const hash = chainHash(
          { ...r, before: null, after: null, requestId: null, address: null },
          prev,
        );
        ids.push(r.id);
        prevs.push(prev);
        hashes.push(hash);
        prev = hash;
        lastId = r.id;
      }
      await queryRunner.query(
        `UPDATE "audit_events" e SET "prev_hash" = t.prev_hash, "hash" = t.hash
           FROM unnest($1::bigint[], $2::char(64)[], $3::char(64)[]) AS t(id, prev_hash, hash) WHERE e.id = t.id`,
        [ids, prevs, hashes],
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_actor"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_action"`);
    await queryRunner.query(`DROP INDEX "public"."ix_audit_events_target"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "hash"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "prev_hash"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "address"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "request_id"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "after"`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "before"`);
  }
}
