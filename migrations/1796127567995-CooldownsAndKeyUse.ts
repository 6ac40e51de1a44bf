import { MigrationInterface, QueryRunner } from "typeorm";

export class CooldownsAndKeyUse1796127567995 implements MigrationInterface {
    name = 'CooldownsAndKeyUse1796127567995'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "model_cooldown" ("account" character varying(64) NOT NULL, "model_id" character varying(100) NOT NULL, "connection_id" uuid, "provider" "public"."provider" NOT NULL, "until" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" character varying(40) NOT NULL, "failures" integer NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_21e02173f7e52fe908b8b3ef83e" PRIMARY KEY ("account", "model_id"))`);
        await queryRunner.query(`CREATE INDEX "model_cooldown_connection_id_idx" ON "model_cooldown" ("connection_id") `);
        await queryRunner.query(`ALTER TABLE "provider_connection" ADD "last_used_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "model_cooldown" ADD CONSTRAINT "model_cooldown_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "provider_connection"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "model_cooldown" DROP CONSTRAINT "model_cooldown_connection_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "provider_connection" DROP COLUMN "last_used_at"`);
        await queryRunner.query(`DROP INDEX "public"."model_cooldown_connection_id_idx"`);
        await queryRunner.query(`DROP TABLE "model_cooldown"`);
    }

}
