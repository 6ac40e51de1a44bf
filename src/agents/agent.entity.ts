import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Billing } from '../catalog/model-options';
import { Timestamped } from '../database/timestamped';
import { MODEL_ID_MAX_LENGTH } from '../model-settings/model-settings.entity';
import { OrganizationEntity } from '../organizations/organization.entity';

export const AGENT_NAME_MAX_LENGTH = 200;

/**
 * An agent of an organization, pinned to a full model id and the billing it was pinned with.
 * Settings changes never touch the pin; only setAgentModel does.
 */
@Entity({ name: 'agent' })
@Index('agent_organization_id_idx', ['organizationId', 'createdAt'])
export class AgentEntity extends Timestamped {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ type: 'varchar', length: AGENT_NAME_MAX_LENGTH })
  name: string;

  @Column({ name: 'model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH })
  modelId: string;

  @Column({ type: 'enum', enum: Billing, enumName: 'billing' })
  billing: Billing;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'agent_organization_id_fkey' })
  organization?: OrganizationEntity;
}
