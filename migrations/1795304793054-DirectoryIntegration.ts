import { MigrationInterface, QueryRunner } from "typeorm";

export class DirectoryIntegration1795304793054 implements MigrationInterface {
    name = 'DirectoryIntegration1795304793054'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "directory_config" (
                "id" smallint NOT NULL DEFAULT '1',
                "type" character varying(8) NOT NULL DEFAULT 'local',
                "url" text NOT NULL DEFAULT '',
                "start_tls" boolean NOT NULL DEFAULT false,
                "ca_cert_pem" text,
                "bind_dn" text NOT NULL DEFAULT '',
                "bind_password_sealed" text,
                "base_dn" text NOT NULL DEFAULT '',
                "user_filter" text NOT NULL DEFAULT '',
                "username_attribute" character varying(64) NOT NULL DEFAULT '',
                "attribute_map" jsonb NOT NULL DEFAULT '{}',
                "group_base_dn" text,
                "group_filter" text,
                "sync_interval_minutes" integer NOT NULL DEFAULT '60',
                "full_sync_hours" integer NOT NULL DEFAULT '24',
                "brake_percent" integer NOT NULL DEFAULT '10',
                "sync_watermark" text,
                "last_full_sync_at" TIMESTAMP WITH TIME ZONE,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_d4203805b4fc80ed1b4fc6b2b6d" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "provisioning_runs" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "status" character varying(16) NOT NULL,
                "total" integer NOT NULL DEFAULT '0',
                "done" integer NOT NULL DEFAULT '0',
                "failed" integer NOT NULL DEFAULT '0',
                "started_at" TIMESTAMP WITH TIME ZONE,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                "errors" jsonb NOT NULL DEFAULT '[]',
                CONSTRAINT "PK_270d86b434cb0e72567d98e08d4" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "directory_sync_runs" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "mode" character varying(12) NOT NULL,
                "status" character varying(24) NOT NULL,
                "trigger" character varying(100) NOT NULL,
                "started_at" TIMESTAMP WITH TIME ZONE,
                "finished_at" TIMESTAMP WITH TIME ZONE,
                "seen" integer NOT NULL DEFAULT '0',
                "added" integer NOT NULL DEFAULT '0',
                "updated" integer NOT NULL DEFAULT '0',
                "suspended" integer NOT NULL DEFAULT '0',
                "reactivated" integer NOT NULL DEFAULT '0',
                "errors" jsonb NOT NULL DEFAULT '[]',
                "pending_suspensions" jsonb,
                CONSTRAINT "PK_7184e2280cc7defdb3cb9f6005a" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "groups" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "name" character varying(256) NOT NULL,
                "source" character varying(8) NOT NULL DEFAULT 'local',
                "external_id" character varying(64),
                "dn" text,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_664ea405ae2a10c264d582ee563" UNIQUE ("name"),
                CONSTRAINT "UQ_23269570def5e037fb583017bfa" UNIQUE ("external_id"),
                CONSTRAINT "PK_659d1483316afb28afd3a90646e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "group_members" (
                "group_id" uuid NOT NULL,
                "user_id" uuid NOT NULL,
                CONSTRAINT "PK_f5939ee0ad233ad35e03f5c65c1" PRIMARY KEY ("group_id", "user_id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "external_id" character varying(64)
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD CONSTRAINT "UQ_11fc776e0ca3573dc195670f636" UNIQUE ("external_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "dn" text
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "phone" character varying(64)
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "photo" bytea
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "directory_version" character varying(32)
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "suspended_reason" character varying(16)
        `);
        await queryRunner.query(`
            ALTER TABLE "group_members"
            ADD CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e" FOREIGN KEY ("group_id") REFERENCES "groups"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "group_members"
            ADD CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "group_members" DROP CONSTRAINT "FK_20a555b299f75843aa53ff8b0ee"
        `);
        await queryRunner.query(`
            ALTER TABLE "group_members" DROP CONSTRAINT "FK_2c840df5db52dc6b4a1b0b69c6e"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "suspended_reason"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "directory_version"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "photo"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "phone"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "dn"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP CONSTRAINT "UQ_11fc776e0ca3573dc195670f636"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "external_id"
        `);
        await queryRunner.query(`
            DROP TABLE "group_members"
        `);
        await queryRunner.query(`
            DROP TABLE "groups"
        `);
        await queryRunner.query(`
            DROP TABLE "directory_sync_runs"
        `);
        await queryRunner.query(`
            DROP TABLE "provisioning_runs"
        `);
        await queryRunner.query(`
            DROP TABLE "directory_config"
        `);
    }

}
