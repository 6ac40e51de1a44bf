import type { Billing, ModelCapability, ModelSource, Provider } from './gql/graphql';

/**
 * How the page names the schema's values: words only, no rule. Typed on the generated enums, so a
 * value the schema adds fails the type check until it has a name here.
 */
export const PROVIDERS: Record<Provider, string> = { ANTHROPIC: 'Anthropic', OPENAI: 'OpenAI' };
export const PROVIDER_ORDER = Object.keys(PROVIDERS) as Provider[];

export const CAPABILITIES: Record<ModelCapability, string> = {
  TEXT: 'Text',
  VISION: 'Vision',
  FILE_UPLOADS: 'File uploads',
  AGENT_TOOLS: 'Agent tools',
};

export const BILLING: Record<Billing, string> = {
  PROVIDER_ACCOUNT: 'Your provider account',
  PLATFORM_CREDITS: 'Platform credits',
};

export const SOURCES: Record<ModelSource, string> = {
  OWN: "This organization's own settings",
  INHERITED: 'Inherited',
  PLATFORM: 'Platform defaults',
};

export const capabilityList = (capabilities: readonly ModelCapability[]) => capabilities.map((capability) => CAPABILITIES[capability]).join(', ');

export const formatDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '';
