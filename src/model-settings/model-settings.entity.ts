import { Check, Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { Timestamped } from '../database/timestamped';
import { USER_ID_MAX_LENGTH } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';

export const MODEL_ID_MAX_LENGTH = 100;

/**
 * An organization's own BYOM settings; no row means "none of its own". `version` grows by one with
 * every update, and settings made after a clear continue from the version the cleared ones had
 * (organization.last_settings_version): updates and clears are conditional on it (see
 * ModelSettingsService), and a version never names two different settings.
 */
@Entity({ name: 'model_settings' })
@Check('model_settings_fallback_differs', '"fallback_model_id" IS NULL OR "fallback_model_id" <> "primary_model_id"')
export class ModelSettingsEntity extends Timestamped {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ name: 'primary_model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH })
  primaryModelId: string;

  @Column({ name: 'fallback_model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH, nullable: true })
  fallbackModelId: string | null;

  @Column({ type: 'boolean' })
  exclusive: boolean;

  @Column({ name: 'offer_to_sub_organizations', type: 'boolean' })
  offerToSubOrganizations: boolean;

  @Column({ type: 'int' })
  version: number;

  @Column({ name: 'updated_by', type: 'varchar', length: USER_ID_MAX_LENGTH })
  updatedBy: string;

  @OneToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'model_settings_organization_id_fkey' })
  organization?: OrganizationEntity;
}
