import { MigrationInterface, QueryRunner } from "typeorm";

export class RunsAndAttempts1795843916655 implements MigrationInterface {
    name = 'RunsAndAttempts1795843916655'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TYPE "public"."run_status" AS ENUM('SUCCEEDED', 'FAILED')`);
        await queryRunner.query(`CREATE TYPE "public"."model_capability" AS ENUM('TEXT', 'VISION', 'FILE_UPLOADS', 'AGENT_TOOLS')`);
        await queryRunner.query(`CREATE TABLE "run" ("id" uuid NOT NULL, "organization_id" uuid NOT NULL, "agent_id" uuid NOT NULL, "requested_by" character varying(200) NOT NULL, "status" "public"."run_status" NOT NULL, "served_by_model_id" character varying(100), "served_by_billing" "public"."billing", "served_by_connection_owner_id" uuid, "output" jsonb, "degraded_features" "public"."model_capability" array NOT NULL, "error" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_804c38ffba92002c6d2c646dd46" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "run_agent_id_idx" ON "run" ("agent_id", "created_at") `);
        await queryRunner.query(`CREATE TYPE "public"."attempt_outcome" AS ENUM('SUCCEEDED', 'FAILED', 'SKIPPED')`);
        await queryRunner.query(`CREATE TABLE "run_attempt" ("run_id" uuid NOT NULL, "position" smallint NOT NULL, "organization_id" uuid NOT NULL, "model_id" character varying(100) NOT NULL, "provider" "public"."provider" NOT NULL, "billing" "public"."billing" NOT NULL, "connection_owner_id" uuid, "outcome" "public"."attempt_outcome" NOT NULL, "reason" character varying(40), "http_status" smallint, "latency_ms" integer NOT NULL, "input_tokens" integer, "output_tokens" integer, "error" jsonb, "started_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_c13b3f493e4a6736737fb2b0eb4" PRIMARY KEY ("run_id", "position"))`);
        await queryRunner.query(`CREATE INDEX "run_attempt_organization_started_at_idx" ON "run_attempt" ("organization_id", "started_at") `);
        await queryRunner.query(`ALTER TABLE "run" ADD CONSTRAINT "run_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "run" ADD CONSTRAINT "run_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agent"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "run_attempt" ADD CONSTRAINT "run_attempt_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "run_attempt" DROP CONSTRAINT "run_attempt_run_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "run" DROP CONSTRAINT "run_agent_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "run" DROP CONSTRAINT "run_organization_id_fkey"`);
        await queryRunner.query(`DROP INDEX "public"."run_attempt_organization_started_at_idx"`);
        await queryRunner.query(`DROP TABLE "run_attempt"`);
        await queryRunner.query(`DROP TYPE "public"."attempt_outcome"`);
        await queryRunner.query(`DROP INDEX "public"."run_agent_id_idx"`);
        await queryRunner.query(`DROP TABLE "run"`);
        await queryRunner.query(`DROP TYPE "public"."model_capability"`);
        await queryRunner.query(`DROP TYPE "public"."run_status"`);
    }

}
