import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { type CatalogModel, ModelCapability, Provider } from './catalog';
import { Billing } from './model-options';

registerEnumType(Provider, { name: 'Provider', description: 'An LLM provider whose accounts organizations can connect.' });
registerEnumType(ModelCapability, {
  name: 'ModelCapability',
  description: 'What a model can do.',
  valuesConfig: {
    TEXT: { description: 'Text in, text out.' },
    VISION: { description: 'Reads images.' },
    FILE_UPLOADS: { description: 'Reads uploaded files.' },
    AGENT_TOOLS: { description: "The platform's tool-use feature set; needs the newest model generation." },
  },
});

@ObjectType({ description: 'A model of the catalog, shared by every organization.' })
@Directive('@key(fields: "id")')
export class Model {
  @Field(() => ID, { description: 'The full, pinned model id, e.g. claude-sonnet-4-6.' })
  id: string;

  @Field(() => Provider, { description: 'The provider that serves this model.' })
  provider: Provider;

  @Field({ description: 'The family alias, e.g. sonnet; several generations may share one.' })
  alias: string;

  @Field({ description: 'A name to show people, e.g. Claude Sonnet 4.6.' })
  displayName: string;

  @Field({ description: 'The model generation, e.g. "4.6".' })
  generation: string;

  @Field(() => [ModelCapability], { description: 'What the model can do.' })
  capabilities: ModelCapability[];

  @Field(() => Int, { description: 'The context window, in tokens.' })
  contextWindow: number;

  @Field(() => Date, { nullable: true, description: 'When the provider stops serving this model; null when no date is announced.' })
  retiresAt?: Date | null;
}

registerEnumType(Billing, {
  name: 'Billing',
  description: 'Who pays for a model.',
  valuesConfig: {
    PROVIDER_ACCOUNT: { description: "The organization's own provider account pays (BYOM)." },
    PLATFORM_CREDITS: { description: "The platform's account pays; credits are consumed." },
  },
});

/**
 * A model as one organization can use it: the one type of it, in the schema and in the code
 * (catalog/model-options.ts resolves aliases over these; `connectionOwner` is resolved from
 * `connectionOwnerId`).
 */
@ObjectType({ description: 'A model as one organization can use it: who pays, and whose connection carries it.' })
export class ModelOption {
  @Field(() => Model, { description: 'The model.' })
  model: CatalogModel;

  @Field(() => Billing, { description: 'Who pays when this model runs for the organization.' })
  billing: Billing;

  /** The organization whose provider connection carries the model; null for platform models. */
  connectionOwnerId: string | null;
}
