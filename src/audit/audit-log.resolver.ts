import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { Organization } from '../organizations/organization.types';
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, type AuditLogService } from './audit-log.service';
import { AuditEventConnection } from './audit-log.types';

@Resolver(() => Organization)
export class AuditLogResolver {
  constructor(private readonly audit: AuditLogService) {}

  @FieldResolver(() => AuditEventConnection, {
    nullable: true,
    description: `The changes made to the organization, newest first. At most ${AUDIT_PAGE_MAX} events a page. Admins only.`,
  })
  auditLog(
    @Ctx() ctx: RequestContext,
    @Root() organization: OrganizationEntity,
    @Arg('first', () => Int, { nullable: true, defaultValue: AUDIT_PAGE_DEFAULT, description: `How many events; capped at ${AUDIT_PAGE_MAX}.` })
    first: number,
    @Arg('after', () => String, { nullable: true, description: 'A cursor: the events older than that one.' }) after?: string | null,
  ): Promise<AuditEventConnection> {
    return this.audit.page(ctx, organization.id, { first, after });
  }
}
