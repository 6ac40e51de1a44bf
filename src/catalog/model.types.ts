import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ModelCapability, Provider } from './catalog';

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
