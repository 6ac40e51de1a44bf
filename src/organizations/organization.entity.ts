import {
  Check,
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Timestamped } from '../database/timestamped';

export const ORGANIZATION_NAME_MAX_LENGTH = 200;

/** An organization of the platform; organizations form a tree of any depth (never a cycle). */
@Entity({ name: 'organization' })
@Check('organization_not_own_parent', '"parent_id" IS NULL OR "parent_id" <> "id"')
// Query.organizations pages newest first by (created_at, id): read backwards from the cursor.
@Index('organization_created_at_id_idx', ['createdAt', 'id'])
export class OrganizationEntity extends Timestamped {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: ORGANIZATION_NAME_MAX_LENGTH })
  name: string;

  @Index('organization_parent_id_idx')
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId: string | null;

  /**
   * The highest version its model settings have had, kept when they are cleared: settings made
   * anew continue from it, so that a version once seen never names other settings (the
   * optimistic concurrency of updateModelSettings and clearModelSettings; ModelSettingsRepository).
   */
  @Column({ name: 'last_settings_version', type: 'int', default: 0 })
  lastSettingsVersion: number;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id', foreignKeyConstraintName: 'organization_parent_id_fkey' })
  parent?: OrganizationEntity;
}
