import { MigrationInterface, QueryRunner } from "typeorm";

export class CaOperations1796670958055 implements MigrationInterface {
    name = 'CaOperations1796670958055'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "ca_settings" (
                "id" smallint NOT NULL,
                "account_cert_days" integer NOT NULL,
                "device_cert_days" integer NOT NULL,
                "crl_hours" integer NOT NULL,
                "renew_before_days" integer NOT NULL,
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "ck_ca_settings_singleton" CHECK (id = 1),
                CONSTRAINT "PK_5c5b76a8d4cbcdb94acfd9487bf" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "issued_certificates"
            ADD "superseded_by_id" uuid
        `);
        await queryRunner.query(`
            ALTER TABLE "issued_certificates"
            ADD "superseded_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "certificate_authorities"
            ADD "overlap_until" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            ALTER TABLE "certificate_authorities"
            ADD "retired_at" TIMESTAMP WITH TIME ZONE
        `);
        await queryRunner.query(`
            CREATE INDEX "ix_issued_certificates_kind_not_after" ON "issued_certificates" ("kind", "not_after")
        `);
        await queryRunner.query(`
            ALTER TABLE "issued_certificates"
            ADD CONSTRAINT "FK_05a5f83801031a745af342aea6c" FOREIGN KEY ("superseded_by_id") REFERENCES "issued_certificates"("id") ON DELETE
            SET NULL ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "issued_certificates" DROP CONSTRAINT "FK_05a5f83801031a745af342aea6c"
        `);
        await queryRunner.query(`
            DROP INDEX "public"."ix_issued_certificates_kind_not_after"
        `);
        await queryRunner.query(`
            ALTER TABLE "certificate_authorities" DROP COLUMN "retired_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "certificate_authorities" DROP COLUMN "overlap_until"
        `);
        await queryRunner.query(`
            ALTER TABLE "issued_certificates" DROP COLUMN "superseded_at"
        `);
        await queryRunner.query(`
            ALTER TABLE "issued_certificates" DROP COLUMN "superseded_by_id"
        `);
        await queryRunner.query(`
            DROP TABLE "ca_settings"
        `);
    }

}
