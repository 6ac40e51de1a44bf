import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Catalog, CatalogModel } from '../catalog/catalog';
import { Model, ModelOption } from '../catalog/model.types';
import type { ProviderConnectionService } from '../connections/provider-connection.service';
import type { RequestContext } from '../context';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { Organization } from '../organizations/organization.types';
import type { ModelSettingsEntity } from './model-settings.entity';
import type { ModelSettingsService } from './model-settings.service';
import {
  ClearModelSettingsInput,
  EffectiveModels,
  ModelSettings,
  UpdateModelSettingsInput,
  UpdateModelSettingsPayload,
} from './model-settings.types';

@Resolver(() => Organization)
export class OrganizationModelsResolver {
  constructor(
    private readonly settings: ModelSettingsService,
    private readonly connections: ProviderConnectionService,
  ) {}

  @FieldResolver(() => EffectiveModels, { nullable: true, description: 'The models this organization uses. Members and admins.' })
  effectiveModels(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<EffectiveModels> {
    return this.settings.effective(ctx, organization.id);
  }

  @FieldResolver(() => ModelSettings, { nullable: true, description: 'The organization\'s own settings; null when it has none. Admins only.' })
  modelSettings(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<ModelSettingsEntity | null> {
    return this.settings.own(ctx, organization);
  }

  @FieldResolver(() => [Model], {
    nullable: true,
    description:
      'Admins only: the models that updateModelSettings accepts here as primary or fallback (those of the providers connected on this organization itself).',
  })
  async pinnableModels(@Ctx() ctx: RequestContext, @Root() organization: OrganizationEntity): Promise<CatalogModel[]> {
    return this.settings.pinnable((await this.connections.connectionsOf(ctx, organization)).map((connection) => connection.provider));
  }

  @Query(() => ModelOption, {
    description:
      'Resolves an alias (sonnet) or a full model id for one organization, as agents and workflow nodes do. BAD_USER_INPUT for neither; MODEL_NOT_AVAILABLE when the organization cannot use it. Members and admins.',
  })
  resolveModel(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID, { description: 'The organization.' }) organizationId: string,
    @Arg('model', { description: 'An alias or a full model id.' }) model: string,
  ): Promise<ModelOption> {
    return this.settings.resolve(ctx, organizationId, model);
  }

  @Mutation(() => UpdateModelSettingsPayload, {
    description: "Replaces the organization's own model settings whole. Organization admins.",
  })
  updateModelSettings(@Ctx() ctx: RequestContext, @Arg('input') input: UpdateModelSettingsInput): Promise<UpdateModelSettingsPayload> {
    return this.settings.update(ctx, input);
  }

  @Mutation(() => Organization, {
    description: "Removes the organization's own model settings: it inherits again, or uses the platform's models. Organization admins.",
  })
  clearModelSettings(@Ctx() ctx: RequestContext, @Arg('input') input: ClearModelSettingsInput): Promise<OrganizationEntity> {
    return this.settings.clear(ctx, input);
  }
}

@Resolver(() => ModelOption)
export class ModelOptionResolver {
  constructor(private readonly organizations: OrganizationService) {}

  @FieldResolver(() => Organization, {
    nullable: true,
    description: 'The organization whose provider connection carries this model; null for platform models.',
  })
  connectionOwner(@Ctx() ctx: RequestContext, @Root() option: ModelOption): Promise<OrganizationEntity | null> {
    return option.connectionOwnerId ? this.organizations.find(ctx, option.connectionOwnerId) : Promise.resolve(null);
  }
}

@Resolver(() => EffectiveModels)
export class EffectiveModelsResolver {
  constructor(private readonly organizations: OrganizationService) {}

  @FieldResolver(() => Organization, { nullable: true, description: 'The ancestor whose settings apply, when source is INHERITED.' })
  inheritedFrom(@Ctx() ctx: RequestContext, @Root() effective: EffectiveModels): Promise<OrganizationEntity | null> {
    return effective.inheritedFromId ? this.organizations.find(ctx, effective.inheritedFromId) : Promise.resolve(null);
  }
}

@Resolver(() => ModelSettings)
export class ModelSettingsResolver {
  constructor(private readonly catalog: Catalog) {}

  @FieldResolver(() => Model, { description: 'The primary model.' })
  primaryModel(@Root() settings: ModelSettingsEntity): CatalogModel | undefined {
    return this.catalog.find(settings.primaryModelId);
  }

  @FieldResolver(() => Model, { nullable: true, description: 'The fallback model; null when none.' })
  fallbackModel(@Root() settings: ModelSettingsEntity): CatalogModel | null {
    return settings.fallbackModelId ? (this.catalog.find(settings.fallbackModelId) ?? null) : null;
  }
}
