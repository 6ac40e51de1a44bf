/**
 * The model catalog: static data, shared by every organization (DESIGN.md section 1).
 * Pure: no I/O, so every rule built on it is testable without a database.
 */

export enum Provider {
  ANTHROPIC = 'ANTHROPIC',
  OPENAI = 'OPENAI',
}

const PROVIDER_NAMES: Record<Provider, string> = { [Provider.ANTHROPIC]: 'Anthropic', [Provider.OPENAI]: 'OpenAI' };

/** How messages name a provider. */
export function providerName(provider: Provider): string {
  return PROVIDER_NAMES[provider];
}

export enum ModelCapability {
  TEXT = 'TEXT',
  VISION = 'VISION',
  FILE_UPLOADS = 'FILE_UPLOADS',
  AGENT_TOOLS = 'AGENT_TOOLS',
}

export interface CatalogModel {
  id: string;
  provider: Provider;
  alias: string;
  displayName: string;
  generation: string;
  capabilities: readonly ModelCapability[];
  contextWindow: number;
  /** Platform credits per million tokens, charged only when the platform's account pays. */
  platformCreditsPerMillionTokens: { input: number; output: number };
  /** When the provider stops serving the model, once announced. */
  retiresAt?: Date;
  /** The catalog id of the model the provider names as its replacement. */
  successorId?: string;
}

/** How long before its retirement a pinned model earns a MODEL_RETIRING notice on save. */
export const RETIRING_NOTICE_DAYS = 90;

const { TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS } = ModelCapability;

export const MODEL_CATALOG: readonly CatalogModel[] = Object.freeze([
  {
    id: 'claude-opus-4-6',
    provider: Provider.ANTHROPIC,
    alias: 'opus',
    displayName: 'Claude Opus 4.6',
    generation: '4.6',
    capabilities: [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS],
    contextWindow: 200_000,
    platformCreditsPerMillionTokens: { input: 500, output: 2_500 },
  },
  {
    id: 'claude-sonnet-4-6',
    provider: Provider.ANTHROPIC,
    alias: 'sonnet',
    displayName: 'Claude Sonnet 4.6',
    generation: '4.6',
    capabilities: [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS],
    contextWindow: 200_000,
    platformCreditsPerMillionTokens: { input: 300, output: 1_500 },
  },
  {
    id: 'claude-haiku-4-5',
    provider: Provider.ANTHROPIC,
    alias: 'haiku',
    displayName: 'Claude Haiku 4.5',
    generation: '4.5',
    capabilities: [TEXT, VISION, FILE_UPLOADS],
    contextWindow: 200_000,
    platformCreditsPerMillionTokens: { input: 100, output: 500 },
  },
  {
    id: 'gpt-5.4',
    provider: Provider.OPENAI,
    alias: 'gpt',
    displayName: 'GPT-5.4',
    generation: '5.4',
    capabilities: [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS],
    contextWindow: 400_000,
    platformCreditsPerMillionTokens: { input: 250, output: 1_500 },
  },
  {
    id: 'gpt-5-mini',
    provider: Provider.OPENAI,
    alias: 'mini',
    displayName: 'GPT-5 mini',
    generation: '5',
    capabilities: [TEXT, VISION, AGENT_TOOLS],
    contextWindow: 400_000,
    platformCreditsPerMillionTokens: { input: 25, output: 200 },
  },
  {
    id: 'gpt-5-nano',
    provider: Provider.OPENAI,
    alias: 'nano',
    displayName: 'GPT-5 nano',
    generation: '5',
    capabilities: [TEXT],
    contextWindow: 400_000,
    platformCreditsPerMillionTokens: { input: 5, output: 40 },
  },
] satisfies CatalogModel[]);

/** The platform's own pair, used by organizations to which no BYOM settings apply. */
export const PLATFORM_DEFAULT = Object.freeze({ primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5-mini' });

/** A catalog and its look-ups; tests build one over another model list. */
export class Catalog {
  private readonly byId: ReadonlyMap<string, CatalogModel>;

  constructor(readonly models: readonly CatalogModel[]) {
    this.byId = new Map(models.map((model) => [model.id, model]));
    for (const model of models) {
      if (model.successorId !== undefined && !this.byId.has(model.successorId)) {
        throw new Error(`The catalog names ${model.successorId} as the successor of ${model.id}, but has no such model`);
      }
    }
  }

  /** Whether the model is retired at `now` (milliseconds): the provider no longer serves it. */
  isRetired(model: CatalogModel, now: number): boolean {
    return model.retiresAt !== undefined && model.retiresAt.getTime() <= now;
  }

  /** Whether the model retires within RETIRING_NOTICE_DAYS of `now`, not yet retired. */
  isRetiringSoon(model: CatalogModel, now: number): boolean {
    return (
      model.retiresAt !== undefined && !this.isRetired(model, now) && model.retiresAt.getTime() - now <= RETIRING_NOTICE_DAYS * 86_400_000
    );
  }

  /** The model the provider names as the replacement; null when it names none. */
  successorOf(model: CatalogModel): CatalogModel | null {
    return model.successorId === undefined ? null : this.get(model.successorId);
  }

  find(id: string): CatalogModel | undefined {
    return this.byId.get(id);
  }

  /**
   * The model of a stored id (settings, pins). Ids are checked against the catalog when stored,
   * so one the catalog has since lost is a data error, not the caller's.
   */
  get(id: string): CatalogModel {
    const model = this.byId.get(id);
    if (!model) throw new Error(`The stored model id ${id} is not in the catalog`);
    return model;
  }

  /** Every alias, each once, in catalog order. */
  aliases(): string[] {
    return [...new Set(this.models.map((model) => model.alias))];
  }

  /** Every model with this alias, newest generation first (an alias may name several). */
  withAlias(alias: string): CatalogModel[] {
    return this.models
      .filter((model) => model.alias === alias)
      .sort((a, b) => compareGenerations(b.generation, a.generation));
  }
}

/** Compares dotted generations numerically: "4.10" is newer than "4.9". */
export function compareGenerations(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export const catalog = new Catalog(MODEL_CATALOG);
