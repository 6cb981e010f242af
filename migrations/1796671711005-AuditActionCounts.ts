import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-action counts of audit events, kept by triggers on audit_events (insert, delete, a changed action,
 * truncate) and seeded from the rows already there. Counts are sharded by the writing backend's pid so
 * that concurrent transactions recording the same action rarely wait on one another.
 */
export class AuditActionCounts1796671711005 implements MigrationInterface {
  name = 'AuditActionCounts1796671711005';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "audit_action_counts" (
                "action" character varying(64) NOT NULL,
                "shard" smallint NOT NULL,
                "count" bigint NOT NULL DEFAULT '0',
                CONSTRAINT "PK_3d18d126a9effb14babfbc08dc1" PRIMARY KEY ("action", "shard")
            )
        `);
    // Statement-level triggers over transition tables: one upsert per action per statement, so a bulk
    // INSERT ... SELECT costs a handful of row updates, not one per inserted row.
    await queryRunner.query(`
            CREATE FUNCTION "audit_action_counts_apply"() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO "audit_action_counts" ("action", "shard", "count")
                    SELECT "action", pg_backend_pid() % 16, count(*) FROM "audit_new" GROUP BY "action"
                    ON CONFLICT ("action", "shard")
                    DO UPDATE SET "count" = "audit_action_counts"."count" + EXCLUDED."count";
                ELSIF TG_OP = 'DELETE' THEN
                    INSERT INTO "audit_action_counts" ("action", "shard", "count")
                    SELECT "action", pg_backend_pid() % 16, -count(*) FROM "audit_old" GROUP BY "action"
                    ON CONFLICT ("action", "shard")
                    DO UPDATE SET "count" = "audit_action_counts"."count" + EXCLUDED."count";
                ELSIF TG_OP = 'UPDATE' THEN
                    INSERT INTO "audit_action_counts" ("action", "shard", "count")
                    SELECT "action", pg_backend_pid() % 16, sum("delta") FROM (
                        SELECT "action", 1 AS "delta" FROM "audit_new"
                        UNION ALL
                        SELECT "action", -1 AS "delta" FROM "audit_old"
                    ) "changes"
                    GROUP BY "action" HAVING sum("delta") <> 0
                    ON CONFLICT ("action", "shard")
                    DO UPDATE SET "count" = "audit_action_counts"."count" + EXCLUDED."count";
                ELSIF TG_OP = 'TRUNCATE' THEN
                    DELETE FROM "audit_action_counts";
                END IF;
                RETURN NULL;
            END
            $$
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_insert" AFTER INSERT ON "audit_events"
            REFERENCING NEW TABLE AS "audit_new"
            FOR EACH STATEMENT EXECUTE FUNCTION "audit_action_counts_apply"()
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_delete" AFTER DELETE ON "audit_events"
            REFERENCING OLD TABLE AS "audit_old"
            FOR EACH STATEMENT EXECUTE FUNCTION "audit_action_counts_apply"()
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_update" AFTER UPDATE ON "audit_events"
            REFERENCING OLD TABLE AS "audit_old" NEW TABLE AS "audit_new"
            FOR EACH STATEMENT EXECUTE FUNCTION "audit_action_counts_apply"()
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_truncate" AFTER TRUNCATE ON "audit_events"
            FOR EACH STATEMENT EXECUTE FUNCTION "audit_action_counts_apply"()
        `);
    await queryRunner.query(`
            INSERT INTO "audit_action_counts" ("action", "shard", "count")
            SELECT "action", 0, count(*) FROM "audit_events" GROUP BY "action"
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const t of ['insert', 'delete', 'update', 'truncate']) {
      await queryRunner.query(`DROP TRIGGER "trg_audit_action_counts_${t}" ON "audit_events"`);
    }
    await queryRunner.query(`DROP FUNCTION "audit_action_counts_apply"()`);
    await queryRunner.query(`
            DROP TABLE "audit_action_counts"
        `);
  }
}
