import { MigrationInterface, QueryRunner } from "typeorm";

export class Init1795302523017 implements MigrationInterface {
    name = 'Init1795302523017'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "audit_events" (
                "id" BIGSERIAL NOT NULL,
                "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "actor" character varying(100) NOT NULL,
                "action" character varying(64) NOT NULL,
                "target" character varying(200),
                "details" jsonb,
                CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_audit_events_at" ON "audit_events" ("at")
        `);
        await queryRunner.query(`
            CREATE TABLE "access_tokens" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "token_hash" character(64) NOT NULL,
                "scope" character varying(16) NOT NULL,
                "subject_id" uuid NOT NULL,
                "device_id" character(64),
                "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_9bbf8c3c1a897742f78d50e729b" UNIQUE ("token_hash"),
                CONSTRAINT "PK_65140f59763ff994a0252488166" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_access_tokens_subject" ON "access_tokens" ("subject_id")
        `);
        await queryRunner.query(`
            CREATE TABLE "admins" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "username" character varying(64) NOT NULL,
                "password_hash" text NOT NULL,
                "last_login_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_4ba6d0c734d53f8e1b2e24b6c56" UNIQUE ("username"),
                CONSTRAINT "PK_e3b38270c97a854c48d2e80874e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "account_key_pool" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "key_id" character(40) NOT NULL,
                "public_key_pem" text NOT NULL,
                "private_key_sealed" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_db56409fc712b8730afcd0c624e" UNIQUE ("key_id"),
                CONSTRAINT "PK_41f0bc7a5964bb79586bd160d98" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "certificate_authorities" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "key_id" character(40) NOT NULL,
                "subject" text NOT NULL,
                "algorithm" text NOT NULL,
                "certificate_pem" text NOT NULL,
                "private_key_sealed" text NOT NULL,
                "not_after" TIMESTAMP WITH TIME ZONE NOT NULL,
                "imported" boolean NOT NULL DEFAULT false,
                "active" boolean NOT NULL DEFAULT true,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_82562309c4d18c5e61835a939b5" UNIQUE ("key_id"),
                CONSTRAINT "PK_690283adc59b534105adf288da2" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_certificate_authorities_active" ON "certificate_authorities" ("active")
            WHERE active
        `);
        await queryRunner.query(`
            CREATE TABLE "crls" (
                "issuer_key_id" character(40) NOT NULL,
                "crl_number" bigint NOT NULL,
                "this_update" TIMESTAMP WITH TIME ZONE NOT NULL,
                "next_update" TIMESTAMP WITH TIME ZONE NOT NULL,
                "crl_der" bytea NOT NULL,
                CONSTRAINT "PK_6cdbede8e5a189ff9a323cec222" PRIMARY KEY ("issuer_key_id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "issued_certificates" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "issuer_key_id" character(40) NOT NULL,
                "serial_number" character varying(64) NOT NULL,
                "kind" character varying(16) NOT NULL,
                "subject" text NOT NULL,
                "key_id" character(40) NOT NULL,
                "key_hash_sha1" character(40) NOT NULL,
                "key_hash_sha256" character(64) NOT NULL,
                "certificate_pem" text NOT NULL,
                "not_before" TIMESTAMP WITH TIME ZONE NOT NULL,
                "not_after" TIMESTAMP WITH TIME ZONE NOT NULL,
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                "revocation_reason" character varying(32),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_9a993193d4b8369f5a3fe9ae3da" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_issued_certificates_key_id" ON "issued_certificates" ("key_id")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_issued_certificates_key_hash_sha1" ON "issued_certificates" ("key_hash_sha1")
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_issued_certificates_key_hash_sha256" ON "issued_certificates" ("key_hash_sha256")
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_issued_certificates_issuer_serial" ON "issued_certificates" ("issuer_key_id", "serial_number")
        `);
        await queryRunner.query(`
            CREATE TABLE "server_certificates" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "hostnames" text array NOT NULL,
                "ca_key_id" character(40) NOT NULL,
                "certificate_pem" text NOT NULL,
                "private_key_sealed" text NOT NULL,
                "not_after" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_1638439f158ba75bc8f0d75f36e" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "settings" (
                "key" character varying(100) NOT NULL,
                "value" jsonb NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_c8639b7626fa94ba8265628f214" PRIMARY KEY ("key")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "users" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "username" character varying(32) NOT NULL,
                "password_hash" text,
                "first_name" character varying(128),
                "last_name" character varying(128),
                "email" character varying(254),
                "source" character varying(8) NOT NULL DEFAULT 'local',
                "status" character varying(16) NOT NULL DEFAULT 'active',
                "jami_id" character(40),
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "UQ_fe0bb3f6520ee0469504521e710" UNIQUE ("username"),
                CONSTRAINT "UQ_7e1646e11802a1313dea9459017" UNIQUE ("jami_id"),
                CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE TABLE "devices" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "user_id" uuid NOT NULL,
                "device_id" character(64) NOT NULL,
                "name" character varying(128) NOT NULL,
                "certificate_id" uuid NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "UQ_2667f40edb344d6f274a0d42b6f" UNIQUE ("device_id"),
                CONSTRAINT "PK_b1514758245c12daf43486dd1f0" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_devices_user" ON "devices" ("user_id")
        `);
        await queryRunner.query(`
            ALTER TABLE "devices"
            ADD CONSTRAINT "FK_5e9bee993b4ce35c3606cda194c" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "devices" DROP CONSTRAINT "FK_5e9bee993b4ce35c3606cda194c"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_devices_user"
        `);
        await queryRunner.query(`
            DROP TABLE "devices"
        `);
        await queryRunner.query(`
            DROP TABLE "users"
        `);
        await queryRunner.query(`
            DROP TABLE "settings"
        `);
        await queryRunner.query(`
            DROP TABLE "server_certificates"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_issued_certificates_issuer_serial"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_issued_certificates_key_hash_sha256"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_issued_certificates_key_hash_sha1"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_issued_certificates_key_id"
        `);
        await queryRunner.query(`
            DROP TABLE "issued_certificates"
        `);
        await queryRunner.query(`
            DROP TABLE "crls"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_certificate_authorities_active"
        `);
        await queryRunner.query(`
            DROP TABLE "certificate_authorities"
        `);
        await queryRunner.query(`
            DROP TABLE "account_key_pool"
        `);
        await queryRunner.query(`
            DROP TABLE "admins"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_access_tokens_subject"
        `);
        await queryRunner.query(`
            DROP TABLE "access_tokens"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_audit_events_at"
        `);
        await queryRunner.query(`
            DROP TABLE "audit_events"
        `);
    }

}
