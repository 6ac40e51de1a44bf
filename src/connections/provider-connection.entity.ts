import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Provider } from '../catalog/catalog';
import { Timestamped } from '../database/timestamped';
import { OrganizationEntity } from '../organizations/organization.entity';

export enum ConnectionStatus {
  VERIFIED = 'VERIFIED',
  INVALID = 'INVALID',
}

/**
 * An organization's own account at one provider: at most one per (organization, provider). The
 * key is stored only as the key vault's ciphertext, bound to this row's organization, id and
 * provider; `created_at` is when it was first connected.
 */
@Entity({ name: 'provider_connection' })
@Unique('provider_connection_organization_provider_key', ['organizationId', 'provider'])
export class ProviderConnectionEntity extends Timestamped {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @Column({ type: 'enum', enum: Provider, enumName: 'provider' })
  provider: Provider;

  @Column({ name: 'encrypted_key', type: 'text' })
  encryptedKey: string;

  @Column({ name: 'key_hint', type: 'varchar', length: 16 })
  keyHint: string;

  @Column({ type: 'enum', enum: ConnectionStatus, enumName: 'connection_status' })
  status: ConnectionStatus;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;

  @Column({ name: 'last_verified_at', type: 'timestamptz', nullable: true })
  lastVerifiedAt: Date | null;

  /** When a run or an upload last sent a request with the key; moved at most once a minute (see ProviderKeys.noteUse). */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'provider_connection_organization_id_fkey' })
  organization?: OrganizationEntity;
}
