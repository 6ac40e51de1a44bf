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

  @ManyToOne(() => OrganizationEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'parent_id', foreignKeyConstraintName: 'organization_parent_id_fkey' })
  parent?: OrganizationEntity;
}
