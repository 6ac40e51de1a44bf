import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import type { MembershipEntity } from './membership.entity';
import type { MembershipService } from './membership.service';
import type { OrganizationEntity } from './organization.entity';
import type { OrganizationService } from './organization.service';
import { Membership, Organization, RemoveMembershipInput, SetMembershipInput } from './organization.types';

@Resolver(() => Membership)
export class MembershipResolver {
  constructor(
    private readonly memberships: MembershipService,
    private readonly organizations: OrganizationService,
  ) {}

  @FieldResolver(() => Organization, { description: 'The organization.' })
  organization(@Ctx() ctx: RequestContext, @Root() membership: MembershipEntity): Promise<OrganizationEntity> {
    return this.organizations.get(ctx, membership.organizationId);
  }

  @Mutation(() => Membership, { description: "Gives a user a role in an organization, replacing any role they had there. Operators only." })
  setMembership(@Ctx() ctx: RequestContext, @Arg('input') input: SetMembershipInput): Promise<MembershipEntity> {
    return this.memberships.set(ctx, input);
  }

  @Mutation(() => Boolean, { description: 'Removes a membership: true when one was removed, false when the user had none there. Operators only.' })
  removeMembership(@Ctx() ctx: RequestContext, @Arg('input') input: RemoveMembershipInput): Promise<boolean> {
    return this.memberships.remove(ctx, input);
  }
}
