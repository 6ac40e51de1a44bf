import { catalog, Provider } from '../../src/catalog/catalog';
import { Billing } from '../../src/catalog/model-options';
import { computeEffectiveModels, type InheritanceFacts, ModelSource, type OwnSettings } from '../../src/model-settings/effective-models';

/** The inheritance rule (DESIGN.md section 3), over facts made by hand: no database. */

const ORG = 'org-self';
const PARENT = 'org-parent';
const GRANDPARENT = 'org-grandparent';
const ROOT = 'org-root';

const settings = (primaryModelId: string, overrides: Partial<OwnSettings> = {}): OwnSettings => ({
  primaryModelId,
  fallbackModelId: null,
  exclusive: false,
  offerToSubOrganizations: false,
  ...overrides,
});

const facts = (overrides: Partial<InheritanceFacts> = {}): InheritanceFacts => ({
  organizationId: ORG,
  settings: null,
  connectedProviders: [],
  ancestors: [],
  ...overrides,
});

/** An option as [model id, billing, connection owner] for compact comparisons. */
const brief = (option: { model: { id: string }; billing: Billing; connectionOwnerId: string | null } | null) =>
  option && [option.model.id, option.billing, option.connectionOwnerId];

const BYOM = Billing.PROVIDER_ACCOUNT;
const PLATFORM = Billing.PLATFORM_CREDITS;
const ALL_IDS = catalog.models.map((model) => model.id);

describe('effective models', () => {
  describe('with settings of its own (OWN)', () => {
    it('uses its own primary and fallback, carried by its own connections', () => {
      const effective = computeEffectiveModels(
        facts({
          settings: settings('claude-opus-4-6', { fallbackModelId: 'gpt-5.4' }),
          connectedProviders: [Provider.ANTHROPIC, Provider.OPENAI],
        }),
        catalog,
      );

      expect(effective.source).toBe(ModelSource.OWN);
      expect(effective.inheritedFromId).toBeNull();
      expect(brief(effective.primary)).toEqual(['claude-opus-4-6', BYOM, ORG]);
      expect(brief(effective.fallback)).toEqual(['gpt-5.4', BYOM, ORG]);
      expect(effective.exclusive).toBe(false);
    });

    it('offers every model of every connected provider as BYOM, then the platform models not already listed', () => {
      const effective = computeEffectiveModels(
        facts({ settings: settings('claude-sonnet-4-6'), connectedProviders: [Provider.ANTHROPIC] }),
        catalog,
      );

      expect(effective.availableModels.map(brief)).toEqual([
        ['claude-opus-4-6', BYOM, ORG],
        ['claude-sonnet-4-6', BYOM, ORG],
        ['claude-haiku-4-5', BYOM, ORG],
        ['gpt-5.4', PLATFORM, null],
        ['gpt-5-mini', PLATFORM, null],
        ['gpt-5-nano', PLATFORM, null],
      ]);
    });

    it('lists each model once: connected providers leave no platform duplicate', () => {
      const effective = computeEffectiveModels(
        facts({ settings: settings('gpt-5.4'), connectedProviders: [Provider.OPENAI, Provider.ANTHROPIC] }),
        catalog,
      );

      expect(effective.availableModels.map((option) => option.model.id)).toEqual(ALL_IDS);
      expect(effective.availableModels.every((option) => option.billing === BYOM)).toBe(true);
    });

    it('hides the platform models in exclusive mode', () => {
      const effective = computeEffectiveModels(
        facts({ settings: settings('gpt-5-mini', { exclusive: true }), connectedProviders: [Provider.OPENAI] }),
        catalog,
      );

      expect(effective.exclusive).toBe(true);
      expect(effective.availableModels.map(brief)).toEqual([
        ['gpt-5.4', BYOM, ORG],
        ['gpt-5-mini', BYOM, ORG],
        ['gpt-5-nano', BYOM, ORG],
      ]);
    });

    it('keeps its own settings even when an ancestor offers its pair (a sub-organization\'s override)', () => {
      const effective = computeEffectiveModels(
        facts({
          settings: settings('gpt-5-nano'),
          connectedProviders: [Provider.OPENAI],
          ancestors: [{ organizationId: PARENT, settings: settings('claude-opus-4-6', { offerToSubOrganizations: true, exclusive: true }) }],
        }),
        catalog,
      );

      expect(effective.source).toBe(ModelSource.OWN);
      expect(brief(effective.primary)).toEqual(['gpt-5-nano', BYOM, ORG]);
      expect(effective.exclusive).toBe(false);
    });
  });

  describe('without settings of its own', () => {
    it('inherits the parent\'s pair when the parent offers it (INHERITED), carried by the parent\'s connections', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [{ organizationId: PARENT, settings: settings('claude-sonnet-4-6', { fallbackModelId: 'gpt-5-mini', offerToSubOrganizations: true }) }],
        }),
        catalog,
      );

      expect(effective.source).toBe(ModelSource.INHERITED);
      expect(effective.inheritedFromId).toBe(PARENT);
      expect(brief(effective.primary)).toEqual(['claude-sonnet-4-6', BYOM, PARENT]);
      expect(brief(effective.fallback)).toEqual(['gpt-5-mini', BYOM, PARENT]);
    });

    it('offers the inherited pair first, then the platform models not already listed', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [{ organizationId: PARENT, settings: settings('gpt-5.4', { fallbackModelId: 'claude-haiku-4-5', offerToSubOrganizations: true }) }],
        }),
        catalog,
      );

      expect(effective.availableModels.map(brief)).toEqual([
        ['gpt-5.4', BYOM, PARENT],
        ['claude-haiku-4-5', BYOM, PARENT],
        ['claude-opus-4-6', PLATFORM, null],
        ['claude-sonnet-4-6', PLATFORM, null],
        ['gpt-5-mini', PLATFORM, null],
        ['gpt-5-nano', PLATFORM, null],
      ]);
    });

    it('does not offer its own connections\' other models when it inherits', () => {
      const effective = computeEffectiveModels(
        facts({
          connectedProviders: [Provider.ANTHROPIC],
          ancestors: [{ organizationId: PARENT, settings: settings('gpt-5.4', { offerToSubOrganizations: true, exclusive: true }) }],
        }),
        catalog,
      );

      expect(effective.availableModels.map(brief)).toEqual([['gpt-5.4', BYOM, PARENT]]);
    });

    it('inherits the exclusive flag together with the pair', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [{ organizationId: PARENT, settings: settings('claude-opus-4-6', { fallbackModelId: 'claude-haiku-4-5', exclusive: true, offerToSubOrganizations: true }) }],
        }),
        catalog,
      );

      expect(effective.exclusive).toBe(true);
      expect(effective.availableModels.map(brief)).toEqual([
        ['claude-opus-4-6', BYOM, PARENT],
        ['claude-haiku-4-5', BYOM, PARENT],
      ]);
    });

    it('takes no fallback from anyone when the giver has none (all or nothing)', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [
            { organizationId: PARENT, settings: settings('claude-opus-4-6', { offerToSubOrganizations: true }) },
            { organizationId: ROOT, settings: settings('gpt-5.4', { fallbackModelId: 'gpt-5-mini', offerToSubOrganizations: true }) },
          ],
        }),
        catalog,
      );

      expect(brief(effective.primary)).toEqual(['claude-opus-4-6', BYOM, PARENT]);
      expect(effective.fallback).toBeNull();
      expect(effective.inheritedFromId).toBe(PARENT);
    });

    it('passes over ancestors that have settings but do not offer them, to the nearest one that does', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [
            { organizationId: PARENT, settings: settings('gpt-5-nano', { exclusive: true }) },
            { organizationId: GRANDPARENT, settings: null },
            { organizationId: ROOT, settings: settings('claude-sonnet-4-6', { fallbackModelId: 'gpt-5.4', offerToSubOrganizations: true }) },
          ],
        }),
        catalog,
      );

      expect(effective.source).toBe(ModelSource.INHERITED);
      expect(effective.inheritedFromId).toBe(ROOT);
      expect(brief(effective.primary)).toEqual(['claude-sonnet-4-6', BYOM, ROOT]);
      expect(brief(effective.fallback)).toEqual(['gpt-5.4', BYOM, ROOT]);
      expect(effective.exclusive).toBe(false);
    });

    it('takes the nearest offering ancestor when several offer', () => {
      const effective = computeEffectiveModels(
        facts({
          ancestors: [
            { organizationId: GRANDPARENT, settings: settings('gpt-5-mini', { offerToSubOrganizations: true }) },
            { organizationId: ROOT, settings: settings('claude-opus-4-6', { offerToSubOrganizations: true }) },
          ],
        }),
        catalog,
      );

      expect(effective.inheritedFromId).toBe(GRANDPARENT);
      expect(brief(effective.primary)).toEqual(['gpt-5-mini', BYOM, GRANDPARENT]);
    });

    it('falls to the platform pair when no ancestor offers (PLATFORM)', () => {
      const effective = computeEffectiveModels(
        facts({
          connectedProviders: [Provider.ANTHROPIC, Provider.OPENAI],
          ancestors: [{ organizationId: PARENT, settings: settings('claude-opus-4-6', { exclusive: true }) }],
        }),
        catalog,
      );

      expect(effective.source).toBe(ModelSource.PLATFORM);
      expect(effective.inheritedFromId).toBeNull();
      expect(effective.exclusive).toBe(false);
      expect(brief(effective.primary)).toEqual(['claude-sonnet-4-6', PLATFORM, null]);
      expect(brief(effective.fallback)).toEqual(['gpt-5-mini', PLATFORM, null]);
      expect(effective.availableModels.map(brief)).toEqual(ALL_IDS.map((id) => [id, PLATFORM, null]));
    });

    it('falls to the platform pair for a root organization without settings', () => {
      const effective = computeEffectiveModels(facts(), catalog);

      expect(effective.source).toBe(ModelSource.PLATFORM);
      expect(effective.organizationId).toBe(ORG);
    });

    it('inherits through a 20-level chain from the root', () => {
      const ancestors = Array.from({ length: 19 }, (_, level) => ({
        organizationId: `level-${18 - level}`,
        settings: level === 18 ? settings('claude-haiku-4-5', { offerToSubOrganizations: true }) : null,
      }));

      const effective = computeEffectiveModels(facts({ ancestors }), catalog);

      expect(effective.inheritedFromId).toBe('level-0');
      expect(brief(effective.primary)).toEqual(['claude-haiku-4-5', BYOM, 'level-0']);
    });
  });
});
