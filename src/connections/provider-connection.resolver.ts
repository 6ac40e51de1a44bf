import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { Organization } from '../organizations/organization.types';
import type { ProviderConnectionEntity } from './provider-connection.entity';
import type { ProviderConnectionService } from './provider-connection.service';
import { ConnectProviderInput, DisconnectProviderInput, ModelCooldown, ProviderConnection, VerifyProviderConnectionInput } from './provider-connection.types';

@Resolver(() => ProviderConnection)
export class ProviderConnectionResolver {
  constructor(
    private readonly connections: ProviderConnectionService,
    private readonly organizations: OrganizationService,
  ) {}

  @FieldResolver(() => Date, { description: 'When the provider was first connected.' })
  connectedAt(@Root() connection: ProviderConnectionEntity): Date {
    return connection.createdAt;
  }

  @FieldResolver(() => Organization, { description: 'The organization that connected this account.' })
  organization(@Ctx() ctx: RequestContext, @Root() connection: ProviderConnectionEntity): Promise<OrganizationEntity> {
    return this.organizations.get(ctx, connection.organizationId);
  }

  @FieldResolver(() => [ModelCooldown], { description: 'Models of this connection that are cooling down now, after retriable failures.' })
  cooldowns(@Ctx() ctx: RequestContext, @Root() connection: ProviderConnectionEntity) {
    return this.connections.cooldownsOf(ctx, connection);
  }

  @Mutation(() => ProviderConnection, {
    description:
      'Organization admins: asks the provider now whether the stored key is still accepted; VERIFIED or INVALID, audited (PROVIDER_VERIFIED). No answer: PROVIDER_UNREACHABLE, status unchanged.',
  })
  verifyProviderConnection(@Ctx() ctx: RequestContext, @Arg('input') input: VerifyProviderConnectionInput): Promise<ProviderConnectionEntity> {
    return this.connections.verify(ctx, input);
  }

  @Mutation(() => ProviderConnection, {
    description:
      "Connects a provider with the organization's own API key, after the provider accepts it; connecting a provider again rotates the key. Organization admins.",
  })
  connectProvider(@Ctx() ctx: RequestContext, @Arg('input') input: ConnectProviderInput): Promise<ProviderConnectionEntity> {
    return this.connections.connect(ctx, input);
  }

  @Mutation(() => Boolean, {
    description:
      'Removes a provider connection and its stored key: true when one was removed, false when there was none. CONNECTION_IN_USE while models run on it. Organization admins.',
  })
  disconnectProvider(@Ctx() ctx: RequestContext, @Arg('input') input: DisconnectProviderInput): Promise<boolean> {
    return this.connections.disconnect(ctx, input);
  }
}

@Resolver(() => Organization)
export class OrganizationConnectionsResolver {
  constructor(private readonly connections: ProviderConnectionService) {}

  @FieldResolver(() => [ProviderConnection], { nullable: true, description: "The organization's own provider connections, by provider. Admins only." })
  providerConnections(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<ProviderConnectionEntity[]> {
    return this.connections.connectionsOf(ctx, organization);
  }
}
