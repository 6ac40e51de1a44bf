import type { RequestContext } from '../context';
import { normalizeId } from '../database/keys';
import { badInput } from '../errors';
import type { Repositories } from '../repositories';
import type { AuditEventEntity } from './audit-event.entity';
import type { AuditEventConnection } from './audit-log.types';
import type { AuditChange } from './audit.repository';

export const AUDIT_PAGE_DEFAULT = 20;
/** The most events one page holds; larger `first` values are capped to it. */
export const AUDIT_PAGE_MAX = 100;

const CURSOR_PREFIX = 'audit:';

/** Cursors are opaque to clients: the event's position, base64url-encoded. */
export function auditCursor(event: AuditEventEntity): string {
  return Buffer.from(`${CURSOR_PREFIX}${event.position}`).toString('base64url');
}

function positionOf(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString();
  const position = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!/^\d{1,18}$/.test(position)) throw badInput('after is not a cursor of this audit log', 'after');
  return position;
}

/** The audit log (DESIGN.md section 5): every change made through a mutation, in its transaction. */
export class AuditLogService {
  /** Writes the event of a change, in the change's own transaction (`tx`). */
  async record(tx: Pick<Repositories, 'audit'>, ctx: RequestContext, change: AuditChange): Promise<void> {
    if (!ctx.principal) throw new Error('A change without a caller cannot be audited');
    await tx.audit.record(ctx.principal.userId, change);
  }

  /** A page of an organization's events, newest first, as a cursor connection. */
  async page(
    ctx: RequestContext,
    organizationId: string,
    args: { first?: number | null; after?: string | null },
  ): Promise<AuditEventConnection> {
    const first = args.first ?? AUDIT_PAGE_DEFAULT;
    if (!Number.isInteger(first) || first < 0) throw badInput('first must be zero or more', 'first');
    const page = await ctx.loaders.audit.pages.load({
      organizationId: normalizeId(organizationId),
      first: Math.min(first, AUDIT_PAGE_MAX),
      beforePosition: args.after ? positionOf(args.after) : null,
    });
    const edges = page.events.map((event) => ({ cursor: auditCursor(event), node: event }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
