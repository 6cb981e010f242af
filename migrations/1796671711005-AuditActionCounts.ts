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
    await queryRunner.query(`
            CREATE FUNCTION "audit_action_counts_bump"(p_action varchar, p_delta bigint) RETURNS void
            LANGUAGE sql AS $$
                INSERT INTO "audit_action_counts" ("action", "shard", "count")
                VALUES (p_action, pg_backend_pid() % 16, p_delta)
                ON CONFLICT ("action", "shard")
                DO UPDATE SET "count" = "audit_action_counts"."count" + EXCLUDED."count"
            $$
        `);
    await queryRunner.query(`
            CREATE FUNCTION "audit_action_counts_row"() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    PERFORM "audit_action_counts_bump"(NEW."action", 1);
                END IF;
                IF TG_OP IN ('DELETE', 'UPDATE') THEN
                    PERFORM "audit_action_counts_bump"(OLD."action", -1);
                END IF;
                RETURN NULL;
            END
            $$
        `);
    await queryRunner.query(`
            CREATE FUNCTION "audit_action_counts_truncate"() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM "audit_action_counts";
                RETURN NULL;
            END
            $$
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_row"
            AFTER INSERT OR DELETE OR UPDATE OF "action" ON "audit_events"
            FOR EACH ROW EXECUTE FUNCTION "audit_action_counts_row"()
        `);
    await queryRunner.query(`
            CREATE TRIGGER "trg_audit_action_counts_truncate"
            AFTER TRUNCATE ON "audit_events"
            FOR EACH STATEMENT EXECUTE FUNCTION "audit_action_counts_truncate"()
        `);
    await queryRunner.query(`
            INSERT INTO "audit_action_counts" ("action", "shard", "count")
            SELECT "action", 0, count(*) FROM "audit_events" GROUP BY "action"
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "trg_audit_action_counts_truncate" ON "audit_events"`);
    await queryRunner.query(`DROP TRIGGER "trg_audit_action_counts_row" ON "audit_events"`);
    await queryRunner.query(`DROP FUNCTION "audit_action_counts_truncate"()`);
    await queryRunner.query(`DROP FUNCTION "audit_action_counts_row"()`);
    await queryRunner.query(`DROP FUNCTION "audit_action_counts_bump"(varchar, bigint)`);
    await queryRunner.query(`
            DROP TABLE "audit_action_counts"
        `);
  }
}
