import { MigrationInterface, QueryRunner } from "typeorm";

export class GroupPolicies1795306730886 implements MigrationInterface {
    name = 'GroupPolicies1795306730886'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "groups"
            ADD "policy" jsonb NOT NULL DEFAULT '{}'
        `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`
            ALTER TABLE "groups" DROP COLUMN "policy"
        `);
    }

}
