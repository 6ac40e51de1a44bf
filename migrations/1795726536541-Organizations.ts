import { MigrationInterface, QueryRunner } from "typeorm";

export class Organizations1795726536541 implements MigrationInterface {
    name = 'Organizations1795726536541'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "organization" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(200) NOT NULL, "parent_id" uuid, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "organization_not_own_parent" CHECK ("parent_id" IS NULL OR "parent_id" <> "id"), CONSTRAINT "PK_472c1f99a32def1b0abb219cd67" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "organization_parent_id_idx" ON "organization" ("parent_id") `);
        await queryRunner.query(`CREATE TYPE "public"."org_role" AS ENUM('ADMIN', 'MEMBER')`);
        await queryRunner.query(`CREATE TABLE "membership" ("organization_id" uuid NOT NULL, "user_id" character varying(200) NOT NULL, "role" "public"."org_role" NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_c126d679d889c31e8c861e6d2dc" PRIMARY KEY ("organization_id", "user_id"))`);
        await queryRunner.query(`CREATE INDEX "membership_user_id_idx" ON "membership" ("user_id") `);
        await queryRunner.query(`ALTER TABLE "organization" ADD CONSTRAINT "organization_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "organization"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "membership" ADD CONSTRAINT "membership_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "membership" DROP CONSTRAINT "membership_organization_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "organization" DROP CONSTRAINT "organization_parent_id_fkey"`);
        await queryRunner.query(`DROP INDEX "public"."membership_user_id_idx"`);
        await queryRunner.query(`DROP TABLE "membership"`);
        await queryRunner.query(`DROP TYPE "public"."org_role"`);
        await queryRunner.query(`DROP INDEX "public"."organization_parent_id_idx"`);
        await queryRunner.query(`DROP TABLE "organization"`);
    }

}
