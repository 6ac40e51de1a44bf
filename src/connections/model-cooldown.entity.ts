import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Provider } from '../catalog/catalog';
import { MODEL_ID_MAX_LENGTH } from '../model-settings/model-settings.entity';
import { ProviderConnectionEntity } from './provider-connection.entity';

/** Room for a connection id or a platform account's name (`platform:ANTHROPIC`). */
export const ACCOUNT_MAX_LENGTH = 64;

/**
 * A model cooling down on one account after retriable failures (DESIGN.md section 7). The
 * account is a BYOM connection (`account` = its id, and `connection_id` set, so that the row goes
 * with the connection) or the platform's key for a provider (`platform:<provider>`). `until` is
 * absolute, so that every instance sees the same end; it only ever moves later. A success of the
 * pair deletes the row.
 */
@Entity({ name: 'model_cooldown' })
// A connection's removal (or rotation) finds its rows by this.
@Index('model_cooldown_connection_id_idx', ['connectionId'])
export class ModelCooldownEntity {
  @PrimaryColumn({ type: 'varchar', length: ACCOUNT_MAX_LENGTH })
  account: string;

  @PrimaryColumn({ name: 'model_id', type: 'varchar', length: MODEL_ID_MAX_LENGTH })
  modelId: string;

  @Column({ name: 'connection_id', type: 'uuid', nullable: true })
  connectionId: string | null;

  @Column({ type: 'enum', enum: Provider, enumName: 'provider' })
  provider: Provider;

  @Column({ type: 'timestamptz' })
  until: Date;

  /** The attempt reason that set the current end, as the run timeline names it. */
  @Column({ type: 'varchar', length: 40 })
  reason: string;

  /** Retriable failures of the pair in a row. */
  @Column({ type: 'integer' })
  failures: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @ManyToOne(() => ProviderConnectionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'connection_id', foreignKeyConstraintName: 'model_cooldown_connection_id_fkey' })
  connection?: ProviderConnectionEntity;
}
