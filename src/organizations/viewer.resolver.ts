import { Ctx, FieldResolver, Query, Resolver } from 'type-graphql';
import type { Principal } from '../auth/authentication';
import type { RequestContext } from '../context';
import type { MembershipService } from './membership.service';
import type { OrganizationEntity } from './organization.entity';
import { Organization, Viewer } from './organization.types';

@Resolver(() => Viewer)
export class ViewerResolver {
  constructor(private readonly memberships: MembershipService) {}

  @Query(() => Viewer, { description: 'Who is calling, and the organizations they belong to.' })
  viewer(@Ctx() ctx: RequestContext): Principal {
    // The permission map lets only authenticated callers this far.
    return ctx.principal as Principal;
  }

  @FieldResolver(() => [Organization], { description: 'The organizations the caller is a member or admin of, by name.' })
  organizations(@Ctx() ctx: RequestContext): Promise<OrganizationEntity[]> {
    return this.memberships.organizationsOfViewer(ctx);
  }
}
