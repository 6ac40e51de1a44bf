import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import { type Catalog, type CatalogModel, type Provider, providerName } from '../catalog/catalog';
import { type ModelOption, resolveModel } from '../catalog/model-options';
import type { ConnectionDependents, ConnectionUse } from '../connections/provider-connection.service';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput, notFound } from '../errors';
import { invalidate } from '../invalidation';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import type { EffectiveModels } from './effective-models';
import type { ClearModelSettingsInput, UpdateModelSettingsInput, UpdateModelSettingsPayload } from './model-settings.types';
import type { Repositories } from '../repositories';
import type { ModelSettingsEntity } from './model-settings.entity';
import type { SettingsValues } from './model-settings.repository';
import { catalogModel, checkedExpectedVersion, refuseRetired, settingsNotices, settingsWarnings, versionConflict } from './model-settings.rules';
import type { Clock } from '../clock';

/** How many inheriting sub-organizations a CONNECTION_IN_USE error names before it only counts them. */
const NAMED_DEPENDENTS = 10;

/** The audit view of settings. */
function audited(settings: ModelSettingsEntity): Record<string, unknown> {
  return {
    primaryModelId: settings.primaryModelId,
    fallbackModelId: settings.fallbackModelId,
    exclusive: settings.exclusive,
    offerToSubOrganizations: settings.offerToSubOrganizations,
    version: settings.version,
  };
}

/** Organizations' own model settings, the effective models every organization reads, and alias resolution. */
export class ModelSettingsService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** The organization's own settings; null when it has none. */
  own(ctx: RequestContext, organization: OrganizationEntity): Promise<ModelSettingsEntity | null> {
    return ctx.loaders.modelSettings.own.load(organization.id);
  }

  /** The organization's effective models, or NOT_FOUND. */
  async effective(ctx: RequestContext, organizationId: string): Promise<EffectiveModels> {
    const walk = await ctx.loaders.modelSettings.walks.load(organizationId);
    if (!walk) throw notFound('Organization', organizationId);
    return walk.effective;
  }

  /** What an alias or a full model id stands for in the organization (DESIGN.md section 4). */
  async resolve(ctx: RequestContext, organizationId: string, requested: string): Promise<ModelOption> {
    return resolveModel(this.catalog, await this.effective(ctx, organizationId), requested);
  }

  /**
   * The models updateModelSettings accepts as primary or fallback, given the providers connected
   * on the organization itself: every catalog model of those providers, in catalog order.
   */
  pinnable(providers: Iterable<Provider>): CatalogModel[] {
    const connected = new Set(providers);
    const now = this.clock.now();
    return this.catalog.models.filter((model) => connected.has(model.provider) && !this.catalog.isRetired(model, now));
  }

  /** BAD_USER_INPUT when the model is retired: a retired model cannot be pinned, by settings or by an agent. */
  refuseRetired(model: CatalogModel, field: string): void {
    refuseRetired(this.catalog, model, field, this.clock.now());
  }

  /**
   * Replaces the organization's settings whole. Checked before anything is written: full catalog
   * ids, a fallback that differs from the primary, each model's provider connected on the
   * organization itself, offering only with sub-organizations, and `expectedVersion`.
   *
   * The connections are locked (FOR SHARE) until the settings are written, so that a concurrent
   * disconnect either waits and then sees the settings that use its connection, or removes it
   * first and makes this update fail. The settings row is locked (FOR UPDATE) and the update is
   * conditional on the version read under that lock, so concurrent updates never lose one.
   */
  async update(ctx: RequestContext, input: UpdateModelSettingsInput): Promise<UpdateModelSettingsPayload> {
    const primary = catalogModel(this.catalog, input.primaryModelId, 'primaryModelId');
    // Only null means "no fallback": an empty string is an id the catalog does not have.
    const fallback = input.fallbackModelId != null ? catalogModel(this.catalog, input.fallbackModelId, 'fallbackModelId') : null;
    if (fallback?.id === primary.id) throw badInput('The fallback model must differ from the primary model', 'fallbackModelId');
    this.refuseRetired(primary, 'primaryModelId');
    if (fallback) this.refuseRetired(fallback, 'fallbackModelId');
    const expectedVersion = checkedExpectedVersion(input.expectedVersion);
    const organization = await this.organizations.get(ctx, input.organizationId);
    const values = {
      primaryModelId: primary.id,
      fallbackModelId: fallback?.id ?? null,
      exclusive: input.exclusive ?? false,
      offerToSubOrganizations: input.offerToSubOrganizations ?? false,
    };
    if (values.offerToSubOrganizations && !(await this.organizations.isParent(ctx, organization))) {
      throw new DomainError(
        ErrorCode.NOT_A_PARENT,
        `${organization.name} has no sub-organizations to offer its models to`,
        { field: 'offerToSubOrganizations', organizationId: organization.id },
      );
    }

    const { settings, inheriting } = await ctx.repos.transaction(async (tx) => {
      // The rule pinnableModels shows.
      const pinnable = new Set(this.pinnable(await tx.connections.lockConnectedProviders(organization.id)));
      for (const [field, model] of [['primaryModelId', primary], ['fallbackModelId', fallback]] as const) {
        if (model && !pinnable.has(model)) {
          throw new DomainError(
            ErrorCode.MODEL_NOT_AVAILABLE,
            `${model.id} runs on ${providerName(model.provider)}, which ${organization.name} has not connected: connect ${providerName(model.provider)} first`,
            { field, model: model.id, provider: model.provider },
          );
        }
      }
      const written = await this.write(tx, ctx, organization.id, values, expectedVersion);
      const [counted] = written.offerToSubOrganizations ? await tx.modelSettings.inheritingDescendants(organization.id, 0) : [];
      return { settings: written, inheriting: counted?.total ?? 0 };
    }, 'READ COMMITTED');

    invalidate.modelSettings(ctx);
    ctx.log.info({ organizationId: organization.id, version: settings.version }, 'model settings updated');
    return {
      settings,
      effectiveModels: await this.effective(ctx, organization.id),
      warnings: settingsWarnings(primary, fallback, { catalog: this.catalog, now: this.clock.now() }),
      notices: settingsNotices(primary, fallback, { catalog: this.catalog, now: this.clock.now() }),
      inheritingSubOrganizations: inheriting,
      organization,
    };
  }

  /** Inserts or conditionally updates the settings row, and audits the change. */
  private async write(
    tx: Repositories,
    ctx: RequestContext,
    organizationId: string,
    settings: Omit<SettingsValues, 'updatedBy'>,
    expectedVersion: number | null,
  ): Promise<ModelSettingsEntity> {
    const values = { ...settings, updatedBy: ctx.principal?.userId as string };
    // Two rounds at most: an insert that loses to a concurrent one finds its row on the second.
    for (let round = 0; round < 2; round += 1) {
      const existing = await tx.modelSettings.lock(organizationId);
      if (existing) {
        if (expectedVersion !== null && expectedVersion !== existing.version) throw versionConflict(expectedVersion, existing.version);
        const updated = await tx.modelSettings.update(organizationId, existing.version, values);
        if (!updated) throw versionConflict(expectedVersion ?? existing.version, existing.version + 1);
        await this.audit.record(tx, ctx, {
          organizationId,
          action: AuditAction.MODEL_SETTINGS_UPDATED,
          before: audited(existing),
          after: audited(updated),
        });
        return updated;
      }
      if (expectedVersion !== null && expectedVersion !== 0) throw versionConflict(expectedVersion, 0);
      const created = await tx.modelSettings.insert(organizationId, values);
      if (created) {
        await this.audit.record(tx, ctx, { organizationId, action: AuditAction.MODEL_SETTINGS_UPDATED, before: null, after: audited(created) });
        return created;
      }
      // A concurrent update created the settings first; with expectedVersion 0 that is a conflict.
      if (expectedVersion === 0) throw versionConflict(0, 1);
    }
    throw new Error('The model settings kept changing under concurrent updates');
  }

  /** Removes the organization's own settings: it inherits again, or falls to the platform's models. */
  async clear(ctx: RequestContext, input: ClearModelSettingsInput): Promise<OrganizationEntity> {
    const expectedVersion = checkedExpectedVersion(input.expectedVersion);
    const organization = await this.organizations.get(ctx, input.organizationId);
    await ctx.repos.transaction(async (tx) => {
      const existing = await tx.modelSettings.lock(organization.id);
      const stored = existing?.version ?? 0;
      if (expectedVersion !== null && expectedVersion !== stored) throw versionConflict(expectedVersion, stored);
      // Clearing what is not there changes nothing, and so is not an event.
      if (!existing) return;
      await tx.modelSettings.delete(organization.id);
      await this.audit.record(tx, ctx, {
        organizationId: organization.id,
        action: AuditAction.MODEL_SETTINGS_CLEARED,
        before: audited(existing),
      });
    }, 'READ COMMITTED');
    invalidate.modelSettings(ctx);
    return organization;
  }

  /**
   * What still runs on a connection (for disconnectProvider's CONNECTION_IN_USE): the
   * organization's own primary or fallback, and the sub-organizations inheriting that pair, as
   * sentences and as data (the first NAMED_DEPENDENTS inheriting ones by name, all of them counted).
   * Runs inside the disconnect's transaction, which holds the connection's row lock.
   */
  readonly connectionDependents: ConnectionDependents = async (tx, connection, owner) => {
    const none = { descriptions: [], uses: [], inheritingSubOrganizations: 0 };
    const [settings] = await tx.modelSettings.ofOrganizations([connection.organizationId]);
    if (!settings) return none;
    const roles = (
      [
        ['PRIMARY', settings.primaryModelId],
        ['FALLBACK', settings.fallbackModelId],
      ] as const
    ).filter((entry): entry is readonly ['PRIMARY' | 'FALLBACK', string] => !!entry[1] && this.catalog.find(entry[1])?.provider === connection.provider);
    if (roles.length === 0) return none;
    const descriptions = roles.map(([role, id]) => `the ${role.toLowerCase()} model ${id}`);
    const usesOf = (organization: { id: string; name: string }, source: ConnectionUse['source']): ConnectionUse[] =>
      roles.map(([role, modelId]) => ({ organizationId: organization.id, organizationName: organization.name, role, modelId, source }));
    const uses = usesOf(owner, 'OWN');
    let total = 0;
    if (settings.offerToSubOrganizations) {
      const inheriting = await tx.modelSettings.inheritingDescendants(connection.organizationId, NAMED_DEPENDENTS);
      if (inheriting.length > 0) {
        total = inheriting[0].total;
        const names = inheriting.map((row) => row.name).join(', ');
        descriptions.push(`${total} sub-organization(s) inheriting that pair: ${names}${total > inheriting.length ? ', …' : ''}`);
        for (const row of inheriting) uses.push(...usesOf(row, 'INHERITED'));
      }
    }
    return { descriptions, uses, inheritingSubOrganizations: total };
  };
}
