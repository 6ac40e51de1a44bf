import { MigrationInterface, QueryRunner } from "typeorm";

export class ProviderVerifiedAudit1796128639647 implements MigrationInterface {
    name = 'ProviderVerifiedAudit1796128639647'

    public async up(queryRunner: QueryRunner): Promise<void> {
        // Reviewed: ADD VALUE instead of the generated type swap, which rewrites audit_event under an exclusive lock. Same order of values.
        await queryRunner.query(`ALTER TYPE "public"."audit_action" ADD VALUE 'PROVIDER_VERIFIED' AFTER 'PROVIDER_DISCONNECTED'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TYPE "public"."audit_action_old" AS ENUM('ORGANIZATION_CREATED', 'ORGANIZATION_MOVED', 'MEMBERSHIP_SET', 'MEMBERSHIP_REMOVED', 'PROVIDER_CONNECTED', 'PROVIDER_KEY_ROTATED', 'PROVIDER_DISCONNECTED', 'MODEL_SETTINGS_UPDATED', 'MODEL_SETTINGS_CLEARED', 'AGENT_CREATED', 'AGENT_MODEL_CHANGED')`);
        await queryRunner.query(`ALTER TABLE "audit_event" ALTER COLUMN "action" TYPE "public"."audit_action_old" USING "action"::"text"::"public"."audit_action_old"`);
        await queryRunner.query(`DROP TYPE "public"."audit_action"`);
        await queryRunner.query(`ALTER TYPE "public"."audit_action_old" RENAME TO "audit_action"`);
    }

}
