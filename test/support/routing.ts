/**
 * What routing tests hand createApp besides the environment (src/services.ts RoutingOptions): a
 * clock they move, so that cooldowns end without waiting, and a catalog holding a retiring and a
 * retired model beside the real ones. Production start-up never passes either.
 */
import { Catalog, type CatalogModel, MODEL_CATALOG, ModelCapability, Provider } from '../../src/catalog/catalog';
import type { Clock } from '../../src/clock';

/** A clock that stands still until moved. */
export class TestClock implements Clock {
  constructor(private time = Date.now()) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

const DAY_MS = 86_400_000;
const { TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS } = ModelCapability;

/** Retired 10 days before the catalog was made; its successor is claude-sonnet-4-6. */
export const RETIRED_MODEL = 'claude-sonnet-4-5';
/** Retires 30 days after the catalog was made (within the 90 days of a MODEL_RETIRING notice); its successor is gpt-5.4. */
export const RETIRING_MODEL = 'gpt-4.1';

/** The real catalog and two more models: one retired, one retiring, both dated from `now`. */
export function routingTestCatalog(now = Date.now()): Catalog {
  const extra: CatalogModel[] = [
    {
      id: RETIRED_MODEL,
      provider: Provider.ANTHROPIC,
      alias: 'sonnet',
      displayName: 'Claude Sonnet 4.5',
      generation: '4.5',
      capabilities: [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS],
      contextWindow: 200_000,
      platformCreditsPerMillionTokens: { input: 300, output: 1_500 },
      retiresAt: new Date(now - 10 * DAY_MS),
      successorId: 'claude-sonnet-4-6',
    },
    {
      id: RETIRING_MODEL,
      provider: Provider.OPENAI,
      alias: 'gpt',
      displayName: 'GPT-4.1',
      generation: '4.1',
      capabilities: [TEXT, VISION, FILE_UPLOADS, AGENT_TOOLS],
      contextWindow: 1_000_000,
      platformCreditsPerMillionTokens: { input: 200, output: 800 },
      retiresAt: new Date(now + 30 * DAY_MS),
      successorId: 'gpt-5.4',
    },
  ];
  return new Catalog([...MODEL_CATALOG, ...extra]);
}
