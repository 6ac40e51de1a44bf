import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Timestamped } from '../database/timestamped';
import { OrganizationEntity } from './organization.entity';
import { USER_ID_MAX_LENGTH } from './user-id';

export enum OrgRole {
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}

export { USER_ID_MAX_LENGTH };

/** A user's role in one organization. Roles do not carry over to sub-organizations. */
@Entity({ name: 'membership' })
@Index('membership_user_id_idx', ['userId'])
export class MembershipEntity extends Timestamped {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' })
  organizationId: string;

  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: USER_ID_MAX_LENGTH })
  userId: string;

  @Column({ type: 'enum', enum: OrgRole, enumName: 'org_role' })
  role: OrgRole;

  @ManyToOne(() => OrganizationEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'organization_id', foreignKeyConstraintName: 'membership_organization_id_fkey' })
  organization?: OrganizationEntity;
}
