import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { groupBy } from '../organizations/organization.loaders';
import { type AuditAction, AuditEventEntity } from './audit-event.entity';

/** One page of one organization's events. */
export interface PageKey {
  organizationId: string;
  first: number;
  /** Events strictly older than this position; null for the newest. */
  beforePosition: string | null;
}

export interface AuditPage {
  events: AuditEventEntity[];
  hasNextPage: boolean;
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
      const repository = dataSource.getRepository(AuditEventEntity);
      const toEvent = (row: Record<string, unknown>) =>
        repository.create({
          id: row.id as string,
          position: String(row.position),
          organizationId: row.organization_id as string,
          actorId: row.actor_id as string,
          action: row.action as AuditAction,
          before: row.before as Record<string, unknown> | null,
          after: row.after as Record<string, unknown> | null,
          at: row.at as Date,
        });
      const byRequest = groupBy(rows, (row) => String(row.request));
      return keys.map((key, index) => {
        const events = (byRequest.get(String(index + 1)) ?? []).map(toEvent);
        return { events: events.slice(0, key.first), hasNextPage: events.length > key.first };
      });
    },
    { cacheKeyFn: (key) => `${key.organizationId}|${key.first}|${key.beforePosition ?? ''}` },
  );
}
