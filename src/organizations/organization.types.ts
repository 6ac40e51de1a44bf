import { IsOptional, IsUUID, Length, Matches } from 'class-validator';
import { Directive, Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { PageInfo } from '../audit/audit-log.types';
import { OrgRole, USER_ID_MAX_LENGTH } from './membership.entity';
import type { OrganizationEntity } from './organization.entity';

registerEnumType(OrgRole, {
  name: 'OrgRole',
  description: "A user's role in one organization; it does not carry over to sub-organizations.",
  valuesConfig: {
    ADMIN: { description: "Manages the organization's providers, model settings and audit log." },
    MEMBER: { description: "Uses the organization's models: agents and runs." },
  },
});

@ObjectType({ description: 'An organization of the platform. Organizations form a tree of any depth.' })
@Directive('@key(fields: "id")')
export class Organization {
  @Field(() => ID, { description: 'The organization id (a UUID).' })
  id: string;

  @Field({ description: "The organization's name." })
  name: string;
}

@ObjectType({ description: 'An organization and its cursor.' })
export class OrganizationEdge {
  @Field({ description: 'Pass it as `after` to read the organizations that follow this one.' })
  cursor: string;

  @Field(() => Organization, { description: 'The organization.' })
  node: OrganizationEntity;
}

@ObjectType({ description: 'A page of organizations, newest first.' })
export class OrganizationConnection {
  @Field(() => [OrganizationEdge], { description: 'The organizations of this page, newest first.' })
  edges: OrganizationEdge[];

  @Field(() => PageInfo, { description: 'Whether more organizations follow.' })
  pageInfo: PageInfo;
}

@ObjectType({ description: "A user's role in one organization." })
export class Membership {
  @Field(() => ID, { description: "The member's user id (the `sub` of their token)." })
  userId: string;

  @Field(() => OrgRole, { description: 'The role the user holds in the organization.' })
  role: OrgRole;
}

@ObjectType({ description: 'Who is calling.' })
export class Viewer {
  @Field(() => ID, { description: "The caller's user id (the `sub` of their token)." })
  userId: string;

  @Field({ description: 'Whether the caller is a platform operator.' })
  isOperator: boolean;
}

const USER_ID = /^\S+$/;

/** An input field holding an organization id: a UUID, or BAD_USER_INPUT naming the field. */
export function OrganizationIdField(description: string, { nullable = false } = {}): PropertyDecorator {
  return (target, property) => {
    Field(() => ID, { description, nullable })(target, property);
    if (nullable) IsOptional()(target, property);
    IsUUID('all', { message: `${String(property)} must be an organization id (a UUID)` })(target, property);
  };
}

@InputType({ description: 'A new organization.' })
export class CreateOrganizationInput {
  @Field({ description: 'Its name: 1 to 200 characters, trimmed.' })
  name: string;

  @OrganizationIdField('The parent organization; none makes a root organization.', { nullable: true })
  parentId?: string | null;
}

@InputType({ description: 'Where an organization moves.' })
export class MoveOrganizationInput {
  @OrganizationIdField('The organization to move.')
  organizationId: string;

  @OrganizationIdField('The new parent. Null makes it a root organization.', { nullable: true })
  parentId?: string | null;
}

@InputType({ description: "A user's role in an organization." })
export class SetMembershipInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => ID, { description: 'The user id (the `sub` of their token).' })
  @Length(1, USER_ID_MAX_LENGTH, { message: `userId must be 1 to ${USER_ID_MAX_LENGTH} characters` })
  @Matches(USER_ID, { message: 'userId must not contain white space' })
  userId: string;

  @Field(() => OrgRole, { description: 'The role to give; it replaces any role the user had there.' })
  role: OrgRole;
}

@InputType({ description: 'A membership to remove.' })
export class RemoveMembershipInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => ID, { description: 'The user id.' })
  @Length(1, USER_ID_MAX_LENGTH, { message: `userId must be 1 to ${USER_ID_MAX_LENGTH} characters` })
  userId: string;
}
