import { Column, CreateDateColumn, Entity, Generated, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { USER_ID_MAX_LENGTH } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';

export enum AuditAction {
  ORGANIZATION_CREATED = 'ORGANIZATION_CREATED',
  ORGANIZATION_MOVED = 'ORGANIZATION_MOVED',
  MEMBERSHIP_SET = 'MEMBERSHIP_SET',
  MEMBERSHIP_REMOVED = 'MEMBERSHIP_REMOVED',
  PROVIDER_CONNECTED = 'PROVIDER_CONNECTED',
  PROVIDER_KEY_ROTATED = 'PROVIDER_KEY_ROTATED',
  PROVIDER_DISCONNECTED = 'PROVIDER_DISCONNECTED',
  PROVIDER_VERIFIED = 'PROVIDER_VERIFIED',
  MODEL_SETTINGS_UPDATED = 'MODEL_SETTINGS_UPDATED',
  MODEL_SETTINGS_CLEARED = 'MODEL_SETTINGS_CLEARED',
  AGENT_CREATED = 'AGENT_CREATED',
  AGENT_MODEL_CHANGED = 'AGENT_MODEL_CHANGED',
}

/**
 * One change made through a mutation, written in the transaction of the change itself. Events
 * are never updated or deleted. `position` orders them (newest first) and is what cursors hold:
 * unlike `at`, which is the transaction's start, it never ties.
 */
@Entity({ name: 'audit_event' })
@Index('audit_event_organization_position_idx', ['organizationId', 'position'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'bigint' })
  @Generated('increment')
  position: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ name: 'actor_id', type: 'varchar', length: USER_ID_MAX_LENGTH })
  actorId: string;

  @Column({ type: 'enum', enum: AuditAction, enumName: 'audit_action' })
  action: AuditAction;

  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'audit_event_organization_id_fkey' })
  organization?: OrganizationEntity;
}
