import { MigrationInterface, QueryRunner } from "typeorm";

export class SettingsVersionsNeverReused1796234114284 implements MigrationInterface {
    name = 'SettingsVersionsNeverReused1796234114284'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Reviewed: a constant default, so PostgreSQL adds the column without rewriting the table.
        await queryRunner.query(`ALTER TABLE "organization" ADD "last_settings_version" integer NOT NULL DEFAULT '0'`);
        // Added by hand: the settings there are now are the highest version each organization has had that is still known.
        await queryRunner.query(`UPDATE "organization" o SET "last_settings_version" = s."version" FROM "model_settings" s WHERE s."organization_id" = o."id"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "organization" DROP COLUMN "last_settings_version"`);
    }

}
