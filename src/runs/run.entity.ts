import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn } from 'typeorm';
import { AgentEntity } from '../agents/agent.entity';
import { ModelCapability, Provider } from '../catalog/catalog';
import { Billing } from '../catalog/model-options';
import { MODEL_ID_MAX_LENGTH } from '../model-settings/model-settings.entity';
import { USER_ID_MAX_LENGTH } from '../organizations/membership.entity';
import { OrganizationEntity } from '../organizations/organization.entity';
import type { ToolCall } from '../providers/provider-calls';

export enum RunStatus {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}

export enum AttemptOutcome {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
}

/** A provider's error, as stored and shown: never a key, the message kept short. */
export interface StoredProviderError {
  provider: Provider;
  httpStatus: number | null;
  type: string;
  message: string;
}

export interface RunOutputValue {
  text: string;
  toolCalls: ToolCall[];
}

/**
 * A run of an agent: written once, with all its attempts, in the transaction that records its
 * outcome. The prompt is not stored (it belongs to the organization's provider account); the
 * answer is, for the monitor timeline. `organization_id` is the agent's, kept for access checks.
 */
@Entity({ name: 'run' })
@Index('run_agent_id_idx', ['agentId', 'createdAt'])
export class RunEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId: string;

  @Column({ name: 'requested_by', type: 'varchar', length: USER_ID_MAX_LENGTH })
  requestedBy: string;

  @Column({ type: 'enum', enum: RunStatus, enumName: 'run_status' })
  status: RunStatus;

  @Column({ name: 'served_by_model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH, nullable: true })
  servedByModelId: string | null;

  @Column({ name: 'served_by_billing', type: 'enum', enum: Billing, enumName: 'billing', nullable: true })
  servedByBilling: Billing | null;

  @Column({ name: 'served_by_connection_owner_id', type: 'uuid', nullable: true })
  servedByConnectionOwnerId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  output: RunOutputValue | null;

  @Column({ name: 'degraded_features', type: 'enum', enum: ModelCapability, enumName: 'model_capability', array: true })
  degradedFeatures: ModelCapability[];

  @Column({ type: 'jsonb', nullable: true })
  error: StoredProviderError | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'run_organization_id_fkey' })
  organization?: OrganizationEntity;

  @ManyToOne(() => AgentEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'run_agent_id_fkey' })
  agent?: AgentEntity;

  @OneToMany(() => RunAttemptEntity, (attempt) => attempt.run)
  attempts?: RunAttemptEntity[];
}

/**
 * One step of a run's monitor timeline: a provider call, or a model passed over. The usage of an
 * organization is summed from these, by `(organization_id, started_at)`.
 */
@Entity({ name: 'run_attempt' })
@Index('run_attempt_organization_started_at_idx', ['organizationId', 'startedAt'])
export class RunAttemptEntity {
  @PrimaryColumn({ name: 'run_id', type: 'uuid' })
  runId: string;

  /** 1, 2, … in the order the attempts were made. */
  @PrimaryColumn({ type: 'smallint' })
  position: number;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ name: 'model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH })
  modelId: string;

  @Column({ type: 'enum', enum: Provider, enumName: 'provider' })
  provider: Provider;

  @Column({ type: 'enum', enum: Billing, enumName: 'billing' })
  billing: Billing;

  /** The organization whose connection carried the call; null for the platform's account. */
  @Column({ name: 'connection_owner_id', type: 'uuid', nullable: true })
  connectionOwnerId: string | null;

  @Column({ type: 'enum', enum: AttemptOutcome, enumName: 'attempt_outcome' })
  outcome: AttemptOutcome;

  @Column({ type: 'varchar', length: 40, nullable: true })
  reason: string | null;

  @Column({ name: 'http_status', type: 'smallint', nullable: true })
  httpStatus: number | null;

  @Column({ name: 'latency_ms', type: 'int' })
  latencyMs: number;

  @Column({ name: 'input_tokens', type: 'int', nullable: true })
  inputTokens: number | null;

  @Column({ name: 'output_tokens', type: 'int', nullable: true })
  outputTokens: number | null;

  @Column({ type: 'jsonb', nullable: true })
  error: StoredProviderError | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @ManyToOne(() => RunEntity, (run) => run.attempts, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'run_attempt_run_id_fkey' })
  run?: RunEntity;
}
