import { MigrationInterface, QueryRunner } from "typeorm";

export class JamsProtocol1795303746296 implements MigrationInterface {
    name = 'JamsProtocol1795303746296'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "accounts" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "user_id" uuid NOT NULL,
                "jami_id" character(40) NOT NULL,
                "certificate_id" uuid NOT NULL,
                "certificate_pem" text NOT NULL,
                "public_key_pem" text NOT NULL,
                "private_key_sealed" text NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "revoked_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "UQ_4972b2027bb8fc36c7f3174e937" UNIQUE ("jami_id"),
                CONSTRAINT "PK_5a7a02c20412299d198e097a8fe" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            CREATE UNIQUE INDEX "uq_accounts_user_live" ON "accounts" ("user_id")
            WHERE revoked_at IS NULL
        `);
        await queryRunner.query(`
            CREATE TABLE "sync_items" (
                "user_id" uuid NOT NULL,
                "kind" character varying(24) NOT NULL,
                "item_key" character varying(128) NOT NULL,
                "data" jsonb NOT NULL,
                "updated_ms" bigint NOT NULL,
                CONSTRAINT "PK_ff9163557c5ce3a226ac5af7e90" PRIMARY KEY ("user_id", "kind", "item_key")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "accounts"
            ADD CONSTRAINT "FK_3000dad1da61b29953f07476324" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "accounts"
            ADD CONSTRAINT "FK_8fd0cddfc529b1f03a58081f57b" FOREIGN KEY ("certificate_id") REFERENCES "issued_certificates"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "sync_items"
            ADD CONSTRAINT "FK_9320fa0950f10d66ad6e2ff2e45" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
        await queryRunner.query(`
            ALTER TABLE "devices"
            ADD CONSTRAINT "FK_5e00a418a6600c67b8c6fabc9b4" FOREIGN KEY ("certificate_id") REFERENCES "issued_certificates"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "devices" DROP CONSTRAINT "FK_5e00a418a6600c67b8c6fabc9b4"
        `);
        await queryRunner.query(`
            ALTER TABLE "sync_items" DROP CONSTRAINT "FK_9320fa0950f10d66ad6e2ff2e45"
        `);
        await queryRunner.query(`
            ALTER TABLE "accounts" DROP CONSTRAINT "FK_8fd0cddfc529b1f03a58081f57b"
        `);
        await queryRunner.query(`
            ALTER TABLE "accounts" DROP CONSTRAINT "FK_3000dad1da61b29953f07476324"
        `);
        await queryRunner.query(`
            DROP TABLE "sync_items"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."uq_accounts_user_live"
        `);
        await queryRunner.query(`
            DROP TABLE "accounts"
        `);
    }

}
