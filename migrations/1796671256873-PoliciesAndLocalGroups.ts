import { MigrationInterface, QueryRunner } from "typeorm";

export class PoliciesAndLocalGroups1796671256873 implements MigrationInterface {
    name = 'PoliciesAndLocalGroups1796671256873'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "policies" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" character varying(128) NOT NULL,
                "version" integer NOT NULL DEFAULT '1',
                "settings" jsonb NOT NULL DEFAULT '{}',
                "is_default" boolean NOT NULL DEFAULT false,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_3d6f8d44a991b53e2899a65ebaf" UNIQUE ("name"),
                CONSTRAINT "PK_603e09f183df0108d8695c57e28" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_policies_default" ON "policies" ("is_default")
            WHERE "is_default"
        `);
        await queryRunner.query(`
            CREATE TABLE "policy_versions" (
                "policy_id" uuid NOT NULL,
                "version" integer NOT NULL,
                "name" character varying(128) NOT NULL,
                "settings" jsonb NOT NULL,
                "actor" character varying(100) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_a87c5de83d774f89e3f706a7b63" PRIMARY KEY ("policy_id", "version")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "user_policies" (
                "user_id" uuid NOT NULL,
                "settings" jsonb NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_80face6d7b9ef8af6b3401d6882" PRIMARY KEY ("user_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "policy_logos" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "content_type" character varying(32) NOT NULL,
                "size" integer NOT NULL,
                "sha256" character(64) NOT NULL,
                "data" bytea NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_c64e91768e2e473a5af1927b3e0" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "groups"
            ADD "policy_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "groups"
            ADD "priority" integer NOT NULL DEFAULT '0'
        `);
        // Group policies become policy objects named after their group, assigned to it (people can no longer be
        // given as raw strings: Account.defaultModerators and Account.uiCustomization are left out).
        await queryRunner.query(`
            INSERT INTO "policies" ("name", "settings")
            SELECT left('Group ' || "name", 128), "policy" - 'Account.defaultModerators' - 'Account.uiCustomization'
            FROM "groups" WHERE "policy" <> '{}'::jsonb
        `);
        await queryRunner.query(`
            UPDATE "groups" g SET "policy_id" = p."id" FROM "policies" p
            WHERE g."policy" <> '{}'::jsonb AND p."name" = left('Group ' || g."name", 128)
        `);
        await queryRunner.query(`
            INSERT INTO "policy_versions" ("policy_id", "version", "name", "settings", "actor")
            SELECT "id", 1, "name", "settings", 'system' FROM "policies"
        `);
        await queryRunner.query(`
            ALTER TABLE "groups" DROP COLUMN "policy"
        `);
        await queryRunner.query(`
            ALTER TABLE "policy_versions"
            ADD CONSTRAINT "FK_b39b765ed67f82c6b52d880713e" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "user_policies"
            ADD CONSTRAINT "FK_80face6d7b9ef8af6b3401d6882" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "groups"
            ADD CONSTRAINT "FK_5df54317fc52b49bba14b8654ba" FOREIGN KEY ("policy_id") REFERENCES "policies"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "groups" DROP CONSTRAINT "FK_5df54317fc52b49bba14b8654ba"
        `);
        await queryRunner.query(`
            ALTER TABLE "user_policies" DROP CONSTRAINT "FK_80face6d7b9ef8af6b3401d6882"
        `);
        await queryRunner.query(`
            ALTER TABLE "policy_versions" DROP CONSTRAINT "FK_b39b765ed67f82c6b52d880713e"
        `);
        await queryRunner.query(`
            ALTER TABLE "groups"
            ADD "policy" jsonb NOT NULL DEFAULT '{}'
        `);
        await queryRunner.query(`
            UPDATE "groups" g SET "policy" = p."settings" - 'Account.defaultModerators' - 'Account.uiCustomization'
            FROM "policies" p WHERE p."id" = g."policy_id"
        `);
        await queryRunner.query(`
            ALTER TABLE "groups" DROP COLUMN "priority"
        `);
        await queryRunner.query(`
            ALTER TABLE "groups" DROP COLUMN "policy_id"
        `);
        await queryRunner.query(`
            DROP TABLE "policy_logos"
        `);
        await queryRunner.query(`
            DROP TABLE "user_policies"
        `);
        await queryRunner.query(`
            DROP TABLE "policy_versions"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_policies_default"
        `);
        await queryRunner.query(`
            DROP TABLE "policies"
        `);
    }

}
