import { JSONResolver } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { AuditAction } from './audit-event.entity';

registerEnumType(AuditAction, {
  name: 'AuditAction',
  description: 'What a change did.',
  valuesConfig: {
    ORGANIZATION_CREATED: { description: 'An operator created the organization.' },
    ORGANIZATION_MOVED: { description: 'An operator moved the organization under another parent.' },
    MEMBERSHIP_SET: { description: "An operator gave a user a role, or changed it." },
    MEMBERSHIP_REMOVED: { description: "An operator removed a user's membership." },
    PROVIDER_CONNECTED: { description: 'A provider was connected with a new key.' },
    PROVIDER_KEY_ROTATED: { description: "A connected provider's key was replaced." },
    PROVIDER_VERIFIED: { description: "A connection's stored key was checked with the provider (verifyProviderConnection): VERIFIED or INVALID." },
    PROVIDER_DISCONNECTED: { description: 'A provider connection and its key were removed.' },
    MODEL_SETTINGS_UPDATED: { description: "The organization's model settings were replaced." },
    MODEL_SETTINGS_CLEARED: { description: "The organization's model settings were removed." },
    AGENT_CREATED: { description: 'An agent was created.' },
    AGENT_MODEL_CHANGED: { description: "An agent's pinned model was changed." },
  },
});

@ObjectType({ description: 'One change made through a mutation.' })
export class AuditEvent {
  @Field(() => ID, { description: 'The event id.' })
  id: string;

  @Field(() => AuditAction, { description: 'What the change did.' })
  action: AuditAction;

  @Field(() => ID, { description: 'Who made it: the user id (`sub`) of the caller.' })
  actorId: string;

  @Field({ description: 'When it was made.' })
  at: Date;

  @Field(() => JSONResolver, { nullable: true, description: 'What changed, as it was; null for a creation. Never holds a key: connections appear by provider and keyHint.' })
  before: Record<string, unknown> | null;

  @Field(() => JSONResolver, { nullable: true, description: 'What changed, as it became; null for a removal. Never holds a key.' })
  after: Record<string, unknown> | null;
}

@ObjectType({ description: 'An audit event and its cursor.' })
export class AuditEventEdge {
  @Field({ description: 'Pass it as `after` to read the events older than this one.' })
  cursor: string;

  @Field(() => AuditEvent, { description: 'The event.' })
  node: AuditEvent;
}

@ObjectType({ description: 'Where a page stands in its list.' })
export class PageInfo {
  @Field({ description: 'Whether more items follow this page.' })
  hasNextPage: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the last item of this page; null when the page is empty.' })
  endCursor: string | null;
}

@ObjectType({ description: "A page of an organization's audit log, newest first." })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge], { description: 'The events of this page, newest first.' })
  edges: AuditEventEdge[];

  @Field(() => PageInfo, { description: 'Whether more events follow.' })
  pageInfo: PageInfo;
}
