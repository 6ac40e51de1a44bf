import { MigrationInterface, QueryRunner } from "typeorm";

export class ModelSettingsAndAgents1795843116142 implements MigrationInterface {
    name = 'ModelSettingsAndAgents1795843116142'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "model_settings" ("created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "organization_id" uuid NOT NULL, "primary_model_id" character varying(100) NOT NULL, "fallback_model_id" character varying(100), "exclusive" boolean NOT NULL, "offer_to_sub_organizations" boolean NOT NULL, "version" integer NOT NULL, "updated_by" character varying(200) NOT NULL, CONSTRAINT "model_settings_fallback_differs" CHECK ("fallback_model_id" IS NULL OR "fallback_model_id" <> "primary_model_id"), CONSTRAINT "PK_852233f4beb646e13d6421bba39" PRIMARY KEY ("organization_id"))`);
        await queryRunner.query(`CREATE TYPE "public"."billing" AS ENUM('PROVIDER_ACCOUNT', 'PLATFORM_CREDITS')`);
        await queryRunner.query(`CREATE TABLE "agent" ("created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "name" character varying(200) NOT NULL, "model_id" character varying(100) NOT NULL, "billing" "public"."billing" NOT NULL, CONSTRAINT "PK_1000e989398c5d4ed585cf9a46f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "agent_organization_id_idx" ON "agent" ("organization_id", "created_at") `);
        await queryRunner.query(`ALTER TABLE "model_settings" ADD CONSTRAINT "model_settings_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "agent" ADD CONSTRAINT "agent_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "agent" DROP CONSTRAINT "agent_organization_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "model_settings" DROP CONSTRAINT "model_settings_organization_id_fkey"`);
        await queryRunner.query(`DROP INDEX "public"."agent_organization_id_idx"`);
        await queryRunner.query(`DROP TABLE "agent"`);
        await queryRunner.query(`DROP TYPE "public"."billing"`);
        await queryRunner.query(`DROP TABLE "model_settings"`);
    }

}
