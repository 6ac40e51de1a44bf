import DataLoader from 'dataloader';
import type { DataSource, EntityManager } from 'typeorm';
import type { RequestContext } from '../context';
import { badInput } from '../errors';
import { normalizeId } from '../organizations/organization.loaders';
import { type AuditAction, AuditEventEntity } from './audit-event.entity';
import type { AuditEventConnection } from './audit-log.types';

/** What one change looked like: never a key (connections appear by provider and key hint). */
export interface AuditChange {
  organizationId: string;
  action: AuditAction;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export const AUDIT_PAGE_DEFAULT = 20;
/** The most events one page holds; larger `first` values are capped to it. */
export const AUDIT_PAGE_MAX = 100;

export interface AuditPage {
  events: AuditEventEntity[];
  hasNextPage: boolean;
}

interface PageKey {
  organizationId: string;
  first: number;
  /** Events strictly older than this position; null for the newest. */
  beforePosition: string | null;
}

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

/** Per-request loader of audit pages: the pages of any number of organizations in one statement. */
export function createAuditLoader(dataSource: DataSource): DataLoader<PageKey, AuditPage, string> {
  return new DataLoader<PageKey, AuditPage, string>(
    async (keys) => {
      // One row more than asked tells whether there is a next page.
      const rows: (Record<string, unknown> & { request: string })[] = await dataSource.query(
        `SELECT page.request, e.id, e.position, e.organization_id, e.actor_id, e.action, e.before, e.after, e.at
         FROM unnest($1::uuid[], $2::bigint[], $3::int[]) WITH ORDINALITY AS page (organization_id, before_position, size, request)
         CROSS JOIN LATERAL (
           SELECT * FROM audit_event
           WHERE organization_id = page.organization_id
             AND (page.before_position IS NULL OR position < page.before_position)
           ORDER BY position DESC
           LIMIT page.size
         ) e
         ORDER BY page.request, e.position DESC`,
        [keys.map((key) => key.organizationId), keys.map((key) => key.beforePosition), keys.map((key) => key.first + 1)],
      );
      const byRequest = new Map<number, AuditEventEntity[]>();
      for (const row of rows) {
        const request = Number(row.request);
        const events = byRequest.get(request) ?? [];
        events.push(
          dataSource.getRepository(AuditEventEntity).create({
            id: row.id as string,
            position: String(row.position),
            organizationId: row.organization_id as string,
            actorId: row.actor_id as string,
            action: row.action as AuditAction,
            before: row.before as Record<string, unknown> | null,
            after: row.after as Record<string, unknown> | null,
            at: row.at as Date,
          }),
        );
        byRequest.set(request, events);
      }
      return keys.map((key, index) => {
        const events = byRequest.get(index + 1) ?? [];
        return { events: events.slice(0, key.first), hasNextPage: events.length > key.first };
      });
    },
    { cacheKeyFn: (key) => `${key.organizationId}|${key.first}|${key.beforePosition ?? ''}` },
  );
}

/** The audit log (DESIGN.md section 5): every change made through a mutation, in its transaction. */
export class AuditLogService {
  /** Writes the event of a change, with the change's own transaction (`manager`). */
  async record(manager: EntityManager, ctx: RequestContext, change: AuditChange): Promise<void> {
    if (!ctx.principal) throw new Error('A change without a caller cannot be audited');
    await manager.query(
      'INSERT INTO audit_event (organization_id, actor_id, action, before, after) VALUES ($1, $2, $3, $4, $5)',
      [change.organizationId, ctx.principal.userId, change.action, change.before ?? null, change.after ?? null],
    );
  }

  /** A page of an organization's events, newest first, as a cursor connection. */
  async page(
    ctx: RequestContext,
    organizationId: string,
    args: { first?: number | null; after?: string | null },
  ): Promise<AuditEventConnection> {
    const first = args.first ?? AUDIT_PAGE_DEFAULT;
    if (!Number.isInteger(first) || first < 0) throw badInput('first must be zero or more', 'first');
    const page = await ctx.loaders.auditPages.load({
      organizationId: normalizeId(organizationId),
      first: Math.min(first, AUDIT_PAGE_MAX),
      beforePosition: args.after ? positionOf(args.after) : null,
    });
    const edges = page.events.map((event) => ({ cursor: auditCursor(event), node: event }));
    return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
