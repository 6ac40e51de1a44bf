import { Catalog, catalog, type CatalogModel, MODEL_CATALOG, Provider } from '../../src/catalog/catalog';
import { Billing, resolveModel } from '../../src/catalog/model-options';
import { computeEffectiveModels, type OwnSettings } from '../../src/model-settings/effective-models';
import { DomainError, ErrorCode } from '../../src/errors';

/** Alias resolution (DESIGN.md section 4) over effective models computed by the inheritance rule: no database. */

const ORG = 'org-self';
const PARENT = 'org-parent';

const own = (primaryModelId: string, overrides: Partial<OwnSettings> = {}, connectedProviders: Provider[] = [Provider.ANTHROPIC, Provider.OPENAI]) => ({
  organizationId: ORG,
  settings: { primaryModelId, fallbackModelId: null, exclusive: false, offerToSubOrganizations: false, ...overrides },
  connectedProviders,
  ancestors: [],
});
const inherited = (primaryModelId: string, overrides: Partial<OwnSettings> = {}) => ({
  organizationId: ORG,
  settings: null,
  connectedProviders: [],
  ancestors: [{ organizationId: PARENT, settings: { primaryModelId, fallbackModelId: null, exclusive: false, offerToSubOrganizations: true, ...overrides } }],
});
const platform = { organizationId: ORG, settings: null, connectedProviders: [], ancestors: [] };

const brief = (option: { model: { id: string }; billing: Billing; connectionOwnerId: string | null }) => [option.model.id, option.billing, option.connectionOwnerId];

function errorOf(work: () => unknown): DomainError {
  try {
    work();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

const BYOM = Billing.PROVIDER_ACCOUNT;
const PLATFORM = Billing.PLATFORM_CREDITS;

describe('resolveModel', () => {
  describe.each([
    ['own settings (both providers connected)', own('claude-sonnet-4-6', { fallbackModelId: 'gpt-5-mini' }), BYOM, ORG, BYOM, ORG],
    ['inherited settings', inherited('claude-sonnet-4-6', { fallbackModelId: 'gpt-5-mini' }), BYOM, PARENT, PLATFORM, null],
    ['platform settings', platform, PLATFORM, null, PLATFORM, null],
  ] as const)('under %s', (_case, facts, pairBilling, pairOwner, otherBilling, otherOwner) => {
    const effective = computeEffectiveModels(facts, catalog);

    it.each([
      ['sonnet', 'claude-sonnet-4-6', 'pair'],
      ['mini', 'gpt-5-mini', 'pair'],
      ['opus', 'claude-opus-4-6', 'other'],
      ['haiku', 'claude-haiku-4-5', 'other'],
      ['gpt', 'gpt-5.4', 'other'],
      ['nano', 'gpt-5-nano', 'other'],
    ])('resolves the alias %s to %s', (alias, id, kind) => {
      const expected = kind === 'pair' ? [id, pairBilling, pairOwner] : [id, otherBilling, otherOwner];
      expect(brief(resolveModel(catalog, effective, alias))).toEqual(expected);
    });

    it('resolves a full model id to itself', () => {
      expect(brief(resolveModel(catalog, effective, 'claude-sonnet-4-6'))).toEqual(['claude-sonnet-4-6', pairBilling, pairOwner]);
    });
  });

  describe('under exclusive settings', () => {
    it('resolves the aliases of connected models, and refuses the others with MODEL_NOT_AVAILABLE', () => {
      const effective = computeEffectiveModels(own('gpt-5.4', { exclusive: true }, [Provider.OPENAI]), catalog);

      expect(brief(resolveModel(catalog, effective, 'gpt'))).toEqual(['gpt-5.4', BYOM, ORG]);
      expect(brief(resolveModel(catalog, effective, 'nano'))).toEqual(['gpt-5-nano', BYOM, ORG]);
      for (const alias of ['opus', 'sonnet', 'haiku']) {
        const error = errorOf(() => resolveModel(catalog, effective, alias));
        expect(error.code).toBe(ErrorCode.MODEL_NOT_AVAILABLE);
        expect(error.details).toMatchObject({ model: alias, availableModels: ['gpt-5.4', 'gpt-5-mini', 'gpt-5-nano'] });
      }
    });

    it('refuses a full id outside the inherited exclusive pair', () => {
      const effective = computeEffectiveModels(inherited('claude-opus-4-6', { fallbackModelId: 'gpt-5.4', exclusive: true }), catalog);

      expect(brief(resolveModel(catalog, effective, 'opus'))).toEqual(['claude-opus-4-6', BYOM, PARENT]);
      expect(brief(resolveModel(catalog, effective, 'gpt'))).toEqual(['gpt-5.4', BYOM, PARENT]);
      expect(errorOf(() => resolveModel(catalog, effective, 'claude-sonnet-4-6')).code).toBe(ErrorCode.MODEL_NOT_AVAILABLE);
      expect(errorOf(() => resolveModel(catalog, effective, 'sonnet')).code).toBe(ErrorCode.MODEL_NOT_AVAILABLE);
    });
  });

  it('refuses what is neither a model id nor an alias with BAD_USER_INPUT naming the aliases', () => {
    const effective = computeEffectiveModels(platform, catalog);

    for (const requested of ['claude-sonnet', 'Sonnet', '', 'gpt-4o']) {
      const error = errorOf(() => resolveModel(catalog, effective, requested));
      expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(error.message).toContain('opus, sonnet, haiku, gpt, mini, nano');
      expect(error.details).toEqual({ field: 'model' });
    }
  });

  describe('with two generations of one alias in the catalog', () => {
    const sonnet47: CatalogModel = {
      ...(MODEL_CATALOG.find((model) => model.id === 'claude-sonnet-4-6') as CatalogModel),
      id: 'claude-sonnet-4-7',
      displayName: 'Claude Sonnet 4.7',
      generation: '4.7',
    };
    const twoGenerations = new Catalog([sonnet47, ...MODEL_CATALOG]);

    it('picks the pinned primary first, even when a newer generation is available', () => {
      const effective = computeEffectiveModels(own('claude-sonnet-4-6', {}, [Provider.ANTHROPIC]), twoGenerations);

      expect(effective.availableModels.map((option) => option.model.id)).toContain('claude-sonnet-4-7');
      expect(brief(resolveModel(twoGenerations, effective, 'sonnet'))).toEqual(['claude-sonnet-4-6', BYOM, ORG]);
    });

    it('picks the pinned fallback next', () => {
      const effective = computeEffectiveModels(own('gpt-5.4', { fallbackModelId: 'claude-sonnet-4-6' }), twoGenerations);

      expect(brief(resolveModel(twoGenerations, effective, 'sonnet'))).toEqual(['claude-sonnet-4-6', BYOM, ORG]);
    });

    it('picks the newest generation when neither pinned model has the alias', () => {
      const effective = computeEffectiveModels(own('claude-opus-4-6', {}, [Provider.ANTHROPIC]), twoGenerations);

      expect(brief(resolveModel(twoGenerations, effective, 'sonnet'))).toEqual(['claude-sonnet-4-7', BYOM, ORG]);
    });

    it('prefers an older BYOM generation to a newer platform one: the organization\'s own account first', () => {
      const effective = computeEffectiveModels(inherited('gpt-5.4', { fallbackModelId: 'claude-haiku-4-5' }), twoGenerations);
      // Without the pair, sonnet is only on the platform: the newest platform generation.
      expect(brief(resolveModel(twoGenerations, effective, 'sonnet'))).toEqual(['claude-sonnet-4-7', PLATFORM, null]);

      const withOldByom = {
        ...effective,
        availableModels: [
          { model: catalog.find('claude-sonnet-4-6') as CatalogModel, billing: BYOM, connectionOwnerId: PARENT },
          ...effective.availableModels.filter((option) => option.model.id !== 'claude-sonnet-4-6'),
        ],
      };
      expect(brief(resolveModel(twoGenerations, withOldByom, 'sonnet'))).toEqual(['claude-sonnet-4-6', BYOM, PARENT]);
    });
  });
});
