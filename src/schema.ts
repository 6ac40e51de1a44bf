import { buildSubgraphSchema } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { type GraphQLSchema, parse } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema, type ContainerType, createResolversMap } from 'type-graphql';
import { AgentResolver, OrganizationAgentsResolver, resolveAgentReference } from './agents/agent.resolver';
import { entityReferences, permissions } from './auth/permissions';
import { AuditLogResolver } from './audit/audit-log.resolver';
import { CatalogResolver, resolveModelReference } from './catalog/catalog.resolver';
import { OrganizationConnectionsResolver, ProviderConnectionResolver } from './connections/provider-connection.resolver';
import type { RequestContext } from './context';
import {
  EffectiveModelsResolver,
  ModelOptionResolver,
  ModelSettingsResolver,
  OrganizationModelsResolver,
} from './model-settings/model-settings.resolver';
import { MembershipResolver } from './organizations/membership.resolver';
import { resolveOrganizationReference, OrganizationResolver } from './organizations/organization.resolver';
import { OrganizationUsageResolver, resolveRunReference, RunResolver } from './runs/run.resolver';
import type { Services } from './services';
import { FileUploadResolver } from './uploads/file-upload.resolver';
import { ViewerResolver } from './organizations/viewer.resolver';

const RESOLVERS = [
  CatalogResolver,
  OrganizationResolver,
  MembershipResolver,
  ViewerResolver,
  ProviderConnectionResolver,
  OrganizationConnectionsResolver,
  AuditLogResolver,
  OrganizationModelsResolver,
  ModelOptionResolver,
  EffectiveModelsResolver,
  ModelSettingsResolver,
  AgentResolver,
  OrganizationAgentsResolver,
  RunResolver,
  OrganizationUsageResolver,
  FileUploadResolver,
] as const;

/** The federation 2 schema extension every printing of this subgraph's schema starts with. */
export const FEDERATION_LINK =
  'extend schema\n  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])\n';

/** Resolver instances with their services, for type-graphql to use instead of constructing them. */
function containerFor(services: Services | undefined): ContainerType {
  const instances = new Map<unknown, unknown>(
    services
      ? [
          [CatalogResolver, new CatalogResolver(services.catalog)],
          [OrganizationResolver, new OrganizationResolver(services.organizations, services.memberships)],
          [MembershipResolver, new MembershipResolver(services.memberships, services.organizations)],
          [ViewerResolver, new ViewerResolver(services.memberships)],
          [ProviderConnectionResolver, new ProviderConnectionResolver(services.connections, services.organizations)],
          [OrganizationConnectionsResolver, new OrganizationConnectionsResolver(services.connections)],
          [AuditLogResolver, new AuditLogResolver(services.audit)],
          [OrganizationModelsResolver, new OrganizationModelsResolver(services.modelSettings, services.connections)],
          [ModelOptionResolver, new ModelOptionResolver(services.organizations)],
          [EffectiveModelsResolver, new EffectiveModelsResolver(services.organizations)],
          [ModelSettingsResolver, new ModelSettingsResolver(services.catalog)],
          [AgentResolver, new AgentResolver(services.agents)],
          [OrganizationAgentsResolver, new OrganizationAgentsResolver(services.agents)],
          [RunResolver, new RunResolver(services.runs, services.agents)],
          [OrganizationUsageResolver, new OrganizationUsageResolver(services.runs)],
          [FileUploadResolver, new FileUploadResolver(services.uploads, services.organizations)],
        ]
      : [],
  );
  return {
    get(resolverClass) {
      const instance = instances.get(resolverClass);
      if (!instance) throw new Error(`No instance of ${String((resolverClass as { name?: string }).name)} in the container`);
      return instance;
    },
  };
}

function buildTypeGraphQLSchema(services?: Services): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    container: containerFor(services),
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    validate: { forbidUnknownValues: false, stopAtFirstError: false },
    // Federation types (_Any, _Entity) are added by buildSubgraphSchema afterwards.
    skipCheck: true,
  });
}

function subgraphSdl(schema: GraphQLSchema): string {
  return `${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}\n`;
}

/** The SDL of this subgraph as other teams and the gateway read it (schema/schema.graphql). */
export async function printSubgraphSchema(): Promise<string> {
  return subgraphSdl(await buildTypeGraphQLSchema());
}

/**
 * The executable federated schema: type-graphql's types, federation, then the permission map and,
 * inside it, the checks of `_entities` references (the first middleware runs first).
 */
export async function buildFederatedSchema(services: Services): Promise<GraphQLSchema> {
  const schema = await buildTypeGraphQLSchema(services);
  const typeDefs = parse(subgraphSdl(schema));
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  const subgraph = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: {
        ...resolvers,
        Organization: {
          ...resolvers.Organization,
          __resolveReference: resolveOrganizationReference(services.organizations),
        },
        Model: { ...resolvers.Model, __resolveReference: resolveModelReference(services.catalog) },
        Agent: { ...resolvers.Agent, __resolveReference: resolveAgentReference(services.agents) },
        Run: { ...resolvers.Run, __resolveReference: resolveRunReference(services.runs) },
      } as never,
    },
  ]);
  return applyMiddleware<unknown, RequestContext>(subgraph, permissions, entityReferences);
}
