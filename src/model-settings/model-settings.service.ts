import type { DataSource, EntityManager } from 'typeorm';
import { AuditAction } from '../audit/audit-event.entity';
import type { AuditLogService } from '../audit/audit-log.service';
import { type Catalog, type CatalogModel, ModelCapability, type Provider, providerName } from '../catalog/catalog';
import { type ModelOption, resolveModel } from '../catalog/model-options';
import type { ConnectionDependents } from '../connections/provider-connection.service';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput, notFound } from '../errors';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { MAX_TREE_DEPTH } from '../organizations/organization.loaders';
import type { OrganizationService } from '../organizations/organization.service';
import type { EffectiveModels } from './effective-models';
import { ModelSettingsEntity } from './model-settings.entity';

export interface UpdateModelSettingsInput {
  organizationId: string;
  primaryModelId: string;
  fallbackModelId?: string | null;
  exclusive?: boolean | null;
  offerToSubOrganizations?: boolean | null;
  expectedVersion?: number | null;
}

export interface UpdateModelSettingsResult {
  settings: ModelSettingsEntity;
  effectiveModels: EffectiveModels;
  warnings: string[];
  inheritingSubOrganizations: number;
}

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

/**
 * The descendants of an organization that take their models from it (DESIGN.md section 3): the
 * walk down stops below a descendant that offers settings of its own, and passes through one
 * that has settings without offering them; those with settings of their own do not inherit.
 */
const INHERITING_DESCENDANTS = `WITH RECURSIVE below (id, name, depth) AS (
  SELECT o.id, o.name, 1 FROM organization o WHERE o.parent_id = $1
  UNION ALL
  SELECT child.id, child.name, below.depth + 1
  FROM below JOIN organization child ON child.parent_id = below.id
  WHERE below.depth < $2
    AND NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id AND s.offer_to_sub_organizations)
)
SELECT below.id, below.name, count(*) OVER ()::int AS total
FROM below
WHERE NOT EXISTS (SELECT 1 FROM model_settings s WHERE s.organization_id = below.id)
ORDER BY below.depth, below.name
LIMIT $3`;

/** An `expectedVersion` as given: null (no check), or zero (no settings yet) or more. */
function checkedExpectedVersion(expectedVersion: number | null | undefined): number | null {
  if (expectedVersion == null) return null;
  if (!Number.isInteger(expectedVersion) || expectedVersion < 0) throw badInput('expectedVersion must be zero (no settings yet) or more', 'expectedVersion');
  return expectedVersion;
}

/** CONFLICT: the caller expected `expectedVersion`, the settings are at `stored` (0: none). */
function versionConflict(expectedVersion: number, stored: number): DomainError {
  return new DomainError(
    ErrorCode.CONFLICT,
    stored === 0
      ? `The organization has no model settings (version 0), not version ${expectedVersion}: reload them and try again`
      : `The model settings are at version ${stored}, not ${expectedVersion}: someone changed them meanwhile; reload them and try again`,
    { field: 'expectedVersion', expectedVersion, currentVersion: stored },
  );
}

/** What an update warns about: tool use that will degrade, and a fallback that cannot do all the primary does. */
function settingsWarnings(primary: CatalogModel, fallback: CatalogModel | null): string[] {
  const warnings: string[] = [];
  for (const [role, model] of [['primary', primary], ['fallback', fallback]] as const) {
    if (model && !model.capabilities.includes(ModelCapability.AGENT_TOOLS)) {
      warnings.push(`The ${role} model ${model.id} lacks AGENT_TOOLS: agents' tool use degrades to text-only answers on it.`);
    }
  }
  if (fallback) {
    const missing = primary.capabilities.filter((capability) => !fallback.capabilities.includes(capability));
    if (missing.length > 0) {
      warnings.push(`The fallback model ${fallback.id} lacks ${missing.join(', ')} of the primary model ${primary.id}.`);
    }
  }
  return warnings;
}

/** Organizations' own model settings, the effective models every organization reads, and alias resolution. */
export class ModelSettingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly organizations: OrganizationService,
    private readonly audit: AuditLogService,
    private readonly catalog: Catalog,
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

  /** A model of the catalog by full id; BAD_USER_INPUT naming the valid ids for anything else (an alias too). */
  private catalogModel(id: string, field: string): CatalogModel {
    const model = this.catalog.find(id);
    if (model) return model;
    const ids = this.catalog.models.map((entry) => entry.id).join(', ');
    const alias = this.catalog.aliases().includes(id) ? ` ('${id}' is an alias: settings pin a full model id)` : '';
    throw badInput(`${field} must be a full model id of the catalog${alias}; valid ids: ${ids}`, field);
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
  async update(ctx: RequestContext, input: UpdateModelSettingsInput): Promise<UpdateModelSettingsResult> {
    const primary = this.catalogModel(input.primaryModelId, 'primaryModelId');
    // Only null means "no fallback": an empty string is an id the catalog does not have.
    const fallback = input.fallbackModelId != null ? this.catalogModel(input.fallbackModelId, 'fallbackModelId') : null;
    if (fallback?.id === primary.id) throw badInput('The fallback model must differ from the primary model', 'fallbackModelId');
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

    const { settings, inheriting } = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const connected: { provider: Provider }[] = await manager.query(
        'SELECT provider FROM provider_connection WHERE organization_id = $1 FOR SHARE',
        [organization.id],
      );
      const providers = new Set(connected.map((row) => row.provider));
      for (const [field, model] of [['primaryModelId', primary], ['fallbackModelId', fallback]] as const) {
        if (model && !providers.has(model.provider)) {
          throw new DomainError(
            ErrorCode.MODEL_NOT_AVAILABLE,
            `${model.id} runs on ${providerName(model.provider)}, which ${organization.name} has not connected: connect ${providerName(model.provider)} first`,
            { field, model: model.id, provider: model.provider },
          );
        }
      }
      const written = await this.write(manager, ctx, organization.id, values, expectedVersion);
      const [counted] = written.offerToSubOrganizations ? await this.inheritingDescendants(manager, organization.id, 0) : [];
      return { settings: written, inheriting: counted?.total ?? 0 };
    });

    this.forgetSettings(ctx);
    ctx.log.info({ organizationId: organization.id, version: settings.version }, 'model settings updated');
    return {
      settings,
      effectiveModels: await this.effective(ctx, organization.id),
      warnings: settingsWarnings(primary, fallback),
      inheritingSubOrganizations: inheriting,
    };
  }

  /** Inserts or conditionally updates the settings row, and audits the change. */
  private async write(
    manager: EntityManager,
    ctx: RequestContext,
    organizationId: string,
    values: Pick<ModelSettingsEntity, 'primaryModelId' | 'fallbackModelId' | 'exclusive' | 'offerToSubOrganizations'>,
    expectedVersion: number | null,
  ): Promise<ModelSettingsEntity> {
    const updatedBy = ctx.principal?.userId as string;
    // Two rounds at most: an insert that loses to a concurrent one finds its row on the second.
    for (let round = 0; round < 2; round += 1) {
      const existing = await manager.findOne(ModelSettingsEntity, { where: { organizationId }, lock: { mode: 'pessimistic_write' } });
      if (existing) {
        if (expectedVersion !== null && expectedVersion !== existing.version) throw versionConflict(expectedVersion, existing.version);
        const { raw } = await manager
          .createQueryBuilder()
          .update(ModelSettingsEntity)
          .set({ ...values, updatedBy, version: () => 'version + 1' })
          .where('organization_id = :organizationId AND version = :version', { organizationId, version: existing.version })
          .returning('version')
          .execute();
        if ((raw as unknown[]).length !== 1) throw versionConflict(expectedVersion ?? existing.version, existing.version + 1);
        const updated = await manager.findOneByOrFail(ModelSettingsEntity, { organizationId });
        await this.audit.record(manager, ctx, {
          organizationId,
          action: AuditAction.MODEL_SETTINGS_UPDATED,
          before: audited(existing),
          after: audited(updated),
        });
        return updated;
      }
      if (expectedVersion !== null && expectedVersion !== 0) throw versionConflict(expectedVersion, 0);
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(ModelSettingsEntity)
        .values({ organizationId, ...values, updatedBy, version: 1 })
        .orIgnore()
        .returning('organization_id')
        .execute();
      if ((inserted.raw as unknown[]).length === 1) {
        const created = await manager.findOneByOrFail(ModelSettingsEntity, { organizationId });
        await this.audit.record(manager, ctx, { organizationId, action: AuditAction.MODEL_SETTINGS_UPDATED, before: null, after: audited(created) });
        return created;
      }
      // A concurrent update created the settings first; with expectedVersion 0 that is a conflict.
      if (expectedVersion === 0) throw versionConflict(0, 1);
    }
    throw new Error('The model settings kept changing under concurrent updates');
  }

  /** Removes the organization's own settings: it inherits again, or falls to the platform's models. */
  async clear(ctx: RequestContext, input: { organizationId: string; expectedVersion?: number | null }): Promise<OrganizationEntity> {
    const expectedVersion = checkedExpectedVersion(input.expectedVersion);
    const organization = await this.organizations.get(ctx, input.organizationId);
    await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const existing = await manager.findOne(ModelSettingsEntity, { where: { organizationId: organization.id }, lock: { mode: 'pessimistic_write' } });
      const stored = existing?.version ?? 0;
      if (expectedVersion !== null && expectedVersion !== stored) throw versionConflict(expectedVersion, stored);
      // Clearing what is not there changes nothing, and so is not an event.
      if (!existing) return;
      await manager.delete(ModelSettingsEntity, { organizationId: organization.id });
      await this.audit.record(manager, ctx, {
        organizationId: organization.id,
        action: AuditAction.MODEL_SETTINGS_CLEARED,
        before: audited(existing),
      });
    });
    this.forgetSettings(ctx);
    return organization;
  }

  /**
   * What still runs on a connection (for disconnectProvider's CONNECTION_IN_USE): the
   * organization's own primary or fallback, and the sub-organizations inheriting that pair.
   * Runs inside the disconnect's transaction, which holds the connection's row lock.
   */
  readonly connectionDependents: ConnectionDependents = async (manager, connection) => {
    const settings = await manager.findOneBy(ModelSettingsEntity, { organizationId: connection.organizationId });
    if (!settings) return [];
    const uses = [
      ['primary', settings.primaryModelId],
      ['fallback', settings.fallbackModelId],
    ].filter(([, id]) => id && this.catalog.find(id)?.provider === connection.provider);
    if (uses.length === 0) return [];
    const dependents = uses.map(([role, id]) => `the ${role} model ${id}`);
    if (settings.offerToSubOrganizations) {
      const inheriting = await this.inheritingDescendants(manager, connection.organizationId, NAMED_DEPENDENTS);
      if (inheriting.length > 0) {
        const total = inheriting[0].total;
        const names = inheriting.map((row) => row.name).join(', ');
        dependents.push(`${total} sub-organization(s) inheriting that pair: ${names}${total > inheriting.length ? ', …' : ''}`);
      }
    }
    return dependents;
  };

  /** The descendants inheriting from an organization, nearest first, `limit` of them (0: only the count, on one row). */
  private async inheritingDescendants(
    manager: EntityManager,
    organizationId: string,
    limit: number,
  ): Promise<{ id: string; name: string; total: number }[]> {
    return manager.query(INHERITING_DESCENDANTS, [organizationId, MAX_TREE_DEPTH, Math.max(limit, 1)]);
  }

  /** Settings changes alter what this request's loaders remember of every organization below. */
  private forgetSettings(ctx: RequestContext): void {
    ctx.loaders.modelSettings.own.clearAll();
    ctx.loaders.modelSettings.forget();
  }
}
