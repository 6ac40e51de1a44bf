import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import { type MembershipEntity, OrgRole } from './membership.entity';
import type { MembershipService } from './membership.service';
import type { OrganizationEntity } from './organization.entity';
import { ORGANIZATIONS_PAGE_DEFAULT, ORGANIZATIONS_PAGE_MAX, type OrganizationService } from './organization.service';
import { CreateOrganizationInput, Membership, MoveOrganizationInput, Organization, OrganizationConnection } from './organization.types';

@Resolver(() => Organization)
export class OrganizationResolver {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly membershipService: MembershipService,
  ) {}

  @Query(() => Organization, { nullable: true, description: 'One organization, by id.' })
  organization(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<OrganizationEntity> {
    return this.organizations.get(ctx, id);
  }

  @Query(() => OrganizationConnection, {
    name: 'organizations',
    description: 'Operators: every organization; others: those they are members of. Newest first; search matches names, case-insensitively.',
  })
  organizationList(
    @Ctx() ctx: RequestContext,
    @Arg('search', () => String, { nullable: true, description: 'A part of the name, in any case; none lists them all.' }) search?: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: ORGANIZATIONS_PAGE_DEFAULT, description: `How many organizations; capped at ${ORGANIZATIONS_PAGE_MAX}.` })
    first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'A cursor: the organizations after that one.' }) after?: string | null,
  ): Promise<OrganizationConnection> {
    return this.organizations.page(ctx, { search, first, after });
  }

  @FieldResolver(() => Organization, { nullable: true, description: 'The parent organization; null for a root.' })
  parent(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<OrganizationEntity | null> {
    return this.organizations.parentOf(ctx, organization);
  }

  @FieldResolver(() => [Organization], { description: 'The direct sub-organizations, by name.' })
  subOrganizations(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<OrganizationEntity[]> {
    return this.organizations.subOrganizationsOf(ctx, organization);
  }

  @FieldResolver(() => OrgRole, { nullable: true, description: "The caller's role here; null when the caller is not a member." })
  viewerRole(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<OrgRole | null> {
    return ctx.access.roleIn(organization.id);
  }

  @FieldResolver(() => Boolean, { description: 'Whether the organization has sub-organizations.' })
  isParent(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<boolean> {
    return this.organizations.isParent(ctx, organization);
  }

  @FieldResolver(() => [Membership], { nullable: true, description: 'Members and admins, by user id. Admins only.' })
  memberships(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<MembershipEntity[]> {
    return this.membershipService.membersOf(ctx, organization);
  }

  @Mutation(() => Organization, { description: 'Creates an organization, optionally under a parent. Operators only.' })
  createOrganization(@Ctx() ctx: RequestContext, @Arg('input') input: CreateOrganizationInput): Promise<OrganizationEntity> {
    return this.organizations.create(ctx, input);
  }

  @Mutation(() => Organization, {
    description: 'Moves an organization under another parent, or to the root. CYCLE when the new parent is the organization or one of its descendants. Operators only.',
  })
  moveOrganization(@Ctx() ctx: RequestContext, @Arg('input') input: MoveOrganizationInput): Promise<OrganizationEntity> {
    return this.organizations.move(ctx, input);
  }
}

/** Federation: another subgraph's reference to an Organization by id; null when there is none. */
export function resolveOrganizationReference(
  organizations: OrganizationService,
): (reference: { id: string }, ctx: RequestContext) => Promise<OrganizationEntity | null> {
  return (reference, ctx) => organizations.find(ctx, reference.id);
}
