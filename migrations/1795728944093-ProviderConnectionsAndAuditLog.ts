import { MigrationInterface, QueryRunner } from "typeorm";

export class ProviderConnectionsAndAuditLog1795728944093 implements MigrationInterface {
    name = 'ProviderConnectionsAndAuditLog1795728944093'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TYPE "public"."audit_action" AS ENUM('ORGANIZATION_CREATED', 'ORGANIZATION_MOVED', 'MEMBERSHIP_SET', 'MEMBERSHIP_REMOVED', 'PROVIDER_CONNECTED', 'PROVIDER_KEY_ROTATED', 'PROVIDER_DISCONNECTED', 'MODEL_SETTINGS_UPDATED', 'MODEL_SETTINGS_CLEARED', 'AGENT_CREATED', 'AGENT_MODEL_CHANGED')`);
        await queryRunner.query(`CREATE TABLE "audit_event" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "position" BIGSERIAL NOT NULL, "organization_id" uuid NOT NULL, "actor_id" character varying(200) NOT NULL, "action" "public"."audit_action" NOT NULL, "before" jsonb, "after" jsonb, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_481efbe8b0a403efe3f47a6528f" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "audit_event_organization_position_idx" ON "audit_event" ("organization_id", "position") `);
        await queryRunner.query(`CREATE TYPE "public"."provider" AS ENUM('ANTHROPIC', 'OPENAI')`);
        await queryRunner.query(`CREATE TYPE "public"."connection_status" AS ENUM('VERIFIED', 'INVALID')`);
        await queryRunner.query(`CREATE TABLE "provider_connection" ("created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "provider" "public"."provider" NOT NULL, "encrypted_key" text NOT NULL, "key_hint" character varying(16) NOT NULL, "status" "public"."connection_status" NOT NULL, "rotated_at" TIMESTAMP WITH TIME ZONE, "last_verified_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "provider_connection_organization_provider_key" UNIQUE ("organization_id", "provider"), CONSTRAINT "PK_287831bfc2b61bbd8668ea4c0b5" PRIMARY KEY ("id"))`);
        await queryRunner.query(`ALTER TABLE "audit_event" ADD CONSTRAINT "audit_event_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
        await queryRunner.query(`ALTER TABLE "provider_connection" ADD CONSTRAINT "provider_connection_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organization"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "provider_connection" DROP CONSTRAINT "provider_connection_organization_id_fkey"`);
        await queryRunner.query(`ALTER TABLE "audit_event" DROP CONSTRAINT "audit_event_organization_id_fkey"`);
        await queryRunner.query(`DROP TABLE "provider_connection"`);
        await queryRunner.query(`DROP TYPE "public"."connection_status"`);
        await queryRunner.query(`DROP TYPE "public"."provider"`);
        await queryRunner.query(`DROP INDEX "public"."audit_event_organization_position_idx"`);
        await queryRunner.query(`DROP TABLE "audit_event"`);
        await queryRunner.query(`DROP TYPE "public"."audit_action"`);
    }

}
