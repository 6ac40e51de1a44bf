import {
  Catalog,
  catalog,
  compareGenerations,
  MODEL_CATALOG,
  ModelCapability,
  PLATFORM_DEFAULT,
  Provider,
  type CatalogModel,
} from '../../src/catalog/catalog';

const { TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS } = ModelCapability;

/** DESIGN.md section 1, row by row. */
const DESIGN_TABLE: Array<[id: string, provider: Provider, alias: string, generation: string, capabilities: ModelCapability[]]> = [
  ['claude-opus-4-6', Provider.ANTHROPIC, 'opus', '4.6', [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS]],
  ['claude-sonnet-4-6', Provider.ANTHROPIC, 'sonnet', '4.6', [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS]],
  ['claude-haiku-4-5', Provider.ANTHROPIC, 'haiku', '4.5', [TEXT, VISION, FILE_UPLOADS]],
  ['gpt-5.4', Provider.OPENAI, 'gpt', '5.4', [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS]],
  ['gpt-5-mini', Provider.OPENAI, 'mini', '5', [TEXT, VISION, AGENT_TOOLS]],
  ['gpt-5-nano', Provider.OPENAI, 'nano', '5', [TEXT]],
];

describe('the model catalog', () => {
  it('holds exactly the six models of the design, in its order', () => {
    expect(MODEL_CATALOG.map((model) => model.id)).toEqual(DESIGN_TABLE.map(([id]) => id));
  });

  it.each(DESIGN_TABLE)('lists %s as %s, alias %s, generation %s, with exactly the capabilities %j', (id, provider, alias, generation, capabilities) => {
    const model = catalog.find(id);
    expect(model).toMatchObject({ id, provider, alias, generation });
    expect([...model!.capabilities].sort()).toEqual([...capabilities].sort());
    expect(new Set(model!.capabilities).size).toBe(model!.capabilities.length);
  });

  it('gives every model a unique id', () => {
    const ids = MODEL_CATALOG.map((model) => model.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every model a display name, a context window and platform credit rates', () => {
    for (const model of MODEL_CATALOG) {
      expect(model.displayName.length).toBeGreaterThan(0);
      expect(model.contextWindow).toBeGreaterThan(0);
      expect(model.platformCreditsPerMillionTokens.input).toBeGreaterThan(0);
      expect(model.platformCreditsPerMillionTokens.output).toBeGreaterThan(0);
    }
  });

  it('finds nothing for an unknown id or an alias', () => {
    expect(catalog.find('claude-sonnet-9')).toBeUndefined();
    expect(catalog.find('sonnet')).toBeUndefined();
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(MODEL_CATALOG)).toBe(true);
  });
});

describe('PLATFORM_DEFAULT', () => {
  it('is claude-sonnet-4-6 as primary and gpt-5-mini as fallback', () => {
    expect(PLATFORM_DEFAULT).toEqual({ primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5-mini' });
  });

  it('names two models of the catalog, one of each provider', () => {
    const primary = catalog.find(PLATFORM_DEFAULT.primaryModelId);
    const fallback = catalog.find(PLATFORM_DEFAULT.fallbackModelId);
    expect(primary?.provider).toBe(Provider.ANTHROPIC);
    expect(fallback?.provider).toBe(Provider.OPENAI);
  });
});

describe('compareGenerations', () => {
  it.each([
    ['4.10', '4.9'],
    ['5.4', '5'],
    ['5', '4.6'],
    ['4.6', '4.5'],
    ['10', '9.9'],
  ])('ranks %s newer than %s', (newer, older) => {
    expect(compareGenerations(newer, older)).toBeGreaterThan(0);
    expect(compareGenerations(older, newer)).toBeLessThan(0);
  });

  it.each([
    ['4.6', '4.6'],
    ['5', '5'],
    ['5', '5.0'],
  ])('ranks %s equal to %s', (a, b) => {
    expect(compareGenerations(a, b)).toBe(0);
    expect(compareGenerations(b, a)).toBe(0);
  });
});

describe('Catalog', () => {
  const base = MODEL_CATALOG.find((model) => model.id === 'claude-sonnet-4-6')!;
  const sonnet = (generation: string): CatalogModel => ({
    ...base,
    id: `claude-sonnet-${generation.replace('.', '-')}`,
    displayName: `Claude Sonnet ${generation}`,
    generation,
  });
  const opus = MODEL_CATALOG.find((model) => model.id === 'claude-opus-4-6')!;
  const models = [sonnet('4.6'), opus, sonnet('4.10'), sonnet('4.7')];
  const twoGenerations = new Catalog(models);

  describe('withAlias', () => {
    it('returns every generation of an alias, newest first', () => {
      expect(twoGenerations.withAlias('sonnet').map((model) => model.id)).toEqual([
        'claude-sonnet-4-10',
        'claude-sonnet-4-7',
        'claude-sonnet-4-6',
      ]);
    });

    it('returns the one model of an alias with a single generation', () => {
      expect(twoGenerations.withAlias('opus')).toEqual([opus]);
    });

    it('returns nothing for an unknown alias or a full model id', () => {
      expect(twoGenerations.withAlias('haiku')).toEqual([]);
      expect(twoGenerations.withAlias('claude-sonnet-4-6')).toEqual([]);
    });

    it('leaves the catalog order untouched', () => {
      twoGenerations.withAlias('sonnet');
      expect(twoGenerations.models.map((model) => model.id)).toEqual(models.map((model) => model.id));
    });

    it('finds the single model of each alias in the real catalog', () => {
      for (const [id, , alias] of DESIGN_TABLE) {
        expect(catalog.withAlias(alias).map((model) => model.id)).toEqual([id]);
      }
    });
  });

  describe('aliases', () => {
    it('lists each alias once, in catalog order', () => {
      expect(twoGenerations.aliases()).toEqual(['sonnet', 'opus']);
    });

    it('lists the six aliases of the real catalog', () => {
      expect(catalog.aliases()).toEqual(['opus', 'sonnet', 'haiku', 'gpt', 'mini', 'nano']);
    });
  });

  describe('find', () => {
    it('finds each model of a test catalog by its id', () => {
      expect(twoGenerations.find('claude-sonnet-4-10')?.generation).toBe('4.10');
      expect(twoGenerations.find('gpt-5.4')).toBeUndefined();
    });
  });
});

describe('retiring models', () => {
  const NOW = Date.parse('2026-12-01T12:00:00Z');
  const DAY = 86_400_000;
  const dated = (id: string, retiresInDays?: number, successorId?: string): CatalogModel => ({
    ...(catalog.find('claude-sonnet-4-6') as CatalogModel),
    id,
    ...(retiresInDays === undefined ? {} : { retiresAt: new Date(NOW + retiresInDays * DAY) }),
    ...(successorId === undefined ? {} : { successorId }),
  });
  const dates = new Catalog([dated('now-on'), dated('in-30-days', 30, 'now-on'), dated('in-90-days', 90), dated('in-91-days', 91), dated('gone', -1, 'now-on')]);
  const model = (id: string) => dates.get(id);

  it('announces no retirement for the production catalog', () => {
    expect(MODEL_CATALOG.filter((entry) => entry.retiresAt !== undefined || entry.successorId !== undefined)).toEqual([]);
  });

  it('calls a model retired from its date on', () => {
    expect(dates.isRetired(model('gone'), NOW)).toBe(true);
    expect(dates.isRetired(model('in-30-days'), NOW + 30 * DAY)).toBe(true);
    expect(dates.isRetired(model('in-30-days'), NOW)).toBe(false);
    expect(dates.isRetired(model('now-on'), NOW)).toBe(false);
  });

  it('calls a model retiring soon within 90 days of its date, and not once retired', () => {
    expect(['now-on', 'in-30-days', 'in-90-days', 'in-91-days', 'gone'].filter((id) => dates.isRetiringSoon(model(id), NOW))).toEqual([
      'in-30-days',
      'in-90-days',
    ]);
  });

  it('names the successor, or none', () => {
    expect(dates.successorOf(model('gone'))?.id).toBe('now-on');
    expect(dates.successorOf(model('in-90-days'))).toBeNull();
  });

  it('refuses a successor it does not hold', () => {
    expect(() => new Catalog([dated('orphan', 10, 'nowhere')])).toThrow('nowhere');
  });
});
