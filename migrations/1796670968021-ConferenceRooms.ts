import { MigrationInterface, QueryRunner } from "typeorm";

export class ConferenceRooms1796670968021 implements MigrationInterface {
    name = 'ConferenceRooms1796670968021'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            CREATE TABLE "rooms" (
                "id" uuid NOT NULL DEFAULT gen_random_uuid(),
                "user_id" uuid NOT NULL,
                "display_name" character varying(128) NOT NULL,
                "moderators" jsonb NOT NULL,
                "members" jsonb,
                "members_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "all_participants_moderators" boolean NOT NULL DEFAULT false,
                "host_secret_hash" text,
                "host_secret_expires_at" TIMESTAMP WITH TIME ZONE,
                "host_secret_used_at" TIMESTAMP WITH TIME ZONE,
                "host_report" jsonb,
                "host_reported_at" TIMESTAMP WITH TIME ZONE,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "REL_ebd4d9c6a68f360a13a2f5a3ad" UNIQUE ("user_id"),
                CONSTRAINT "PK_0368a2d7c215f2d0458a54933f2" PRIMARY KEY ("id")
            )
        `);
        await queryRunner.query(`
            ALTER TABLE "users"
            ADD "kind" character varying(8) NOT NULL DEFAULT 'user'
        `);
        await queryRunner.query(`
            ALTER TABLE "rooms"
            ADD CONSTRAINT "FK_ebd4d9c6a68f360a13a2f5a3ad3" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "rooms" DROP CONSTRAINT "FK_ebd4d9c6a68f360a13a2f5a3ad3"
        `);
        await queryRunner.query(`
            ALTER TABLE "users" DROP COLUMN "kind"
        `);
        await queryRunner.query(`
            DROP TABLE "rooms"
        `);
    }

}
