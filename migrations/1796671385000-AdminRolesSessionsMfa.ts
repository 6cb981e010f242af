import { MigrationInterface, QueryRunner } from "typeorm";

/** Admin roles, disabled flag and TOTP fields; admin sessions and personal API tokens. */
export class AdminRolesSessionsMfa1796671385000 implements MigrationInterface {
    name = 'AdminRolesSessionsMfa1796671385000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "admin_sessions" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "admin_id" uuid NOT NULL,
                "kind" character varying(16) NOT NULL,
                "token_hash" character(64) NOT NULL,
                "name" character varying(100),
                "role" character varying(16),
                "expires_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "last_used_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "reauth_at" TIMESTAMP WITH TIME ZONE,
                "mfa_setup_required" boolean NOT NULL DEFAULT false,
                "ip" character varying(64),
                "user_agent" character varying(200),
                CONSTRAINT "UQ_820cb9c73b9f2bf3f2fb678d935" UNIQUE ("token_hash"),
                CONSTRAINT "PK_38bb553c2372215d48de2306c5e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_admin_sessions_admin" ON "admin_sessions" ("admin_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "role" character varying(16) NOT NULL DEFAULT 'admin'
        `);
        // Admins created before roles could do everything: they become owners.
        await queryRunner.query(`UPDATE "admins" SET "role" = 'owner'`);
        // Admin bearers now live in admin_sessions; the old ADMIN access tokens end.
        await queryRunner.query(`DELETE FROM "access_tokens" WHERE "scope" = 'ADMIN'`);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "disabled" boolean NOT NULL DEFAULT false
        `);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "totp_secret_sealed" text
        `);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "totp_enabled_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "totp_last_step" bigint
        `);
        await queryRunner.query(`
            ALTER TABLE "admins"
            ADD "recovery_code_hashes" jsonb NOT NULL DEFAULT '[]'
        `);
        await queryRunner.query(`
            ALTER TABLE "admin_sessions"
            ADD CONSTRAINT "FK_52683d67b3d122a8867d745beb6" FOREIGN KEY ("admin_id") REFERENCES "admins"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "admin_sessions" DROP CONSTRAINT "FK_52683d67b3d122a8867d745beb6"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "recovery_code_hashes"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "totp_last_step"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "totp_enabled_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "totp_secret_sealed"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "disabled"
        `);
        await queryRunner.query(`
            ALTER TABLE "admins" DROP COLUMN "role"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_admin_sessions_admin"
        `);
        await queryRunner.query(`
            DROP TABLE "admin_sessions"
        `);
    }

}
