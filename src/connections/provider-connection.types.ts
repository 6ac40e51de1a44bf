import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { type CatalogModel, Provider } from '../catalog/catalog';
import { Model } from '../catalog/model.types';
import { OrganizationIdField } from '../organizations/organization.types';
import { ConnectionStatus } from './provider-connection.entity';

registerEnumType(ConnectionStatus, {
  name: 'ConnectionStatus',
  description: 'Whether the provider accepts the stored key.',
  valuesConfig: {
    VERIFIED: { description: 'The provider accepted the key on connect or on the last call.' },
    INVALID: { description: 'The provider rejected the key (401/403) on a later call; connect again with a valid key.' },
  },
});

@ObjectType({ description: "An organization's own account at one provider. The key itself never leaves the service." })
export class ProviderConnection {
  @Field(() => ID, { description: 'The connection id; it stays the same when the key is rotated.' })
  id: string;

  @Field(() => Provider, { description: 'The provider.' })
  provider: Provider;

  @Field({ description: "The key's last four characters, e.g. '…x9Qz'." })
  keyHint: string;

  @Field(() => ConnectionStatus, { description: 'Whether the provider accepts the key.' })
  status: ConnectionStatus;

  @Field(() => Date, { nullable: true, description: 'When the key was last replaced by connecting the provider again; null if never.' })
  rotatedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the provider last accepted the key.' })
  lastVerifiedAt: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When a run or an upload last sent a request with this key, whatever the answer; it moves at most once a minute.',
  })
  lastUsedAt: Date | null;
}

@ObjectType({ description: 'A model cooling down on one account after retriable failures.' })
export class ModelCooldown {
  @Field(() => Model, { description: 'The model that cools on this account.' })
  model: CatalogModel;

  @Field(() => Date, { description: 'Runs skip this model on this account until then, when they have another candidate.' })
  until: Date;

  @Field({ description: 'The attempt reason that cooled it, as the run timeline names it (e.g. the reason of a 429 or of a timeout).' })
  reason: string;

  @Field(() => Int, { description: 'Retriable failures in a row that led here.' })
  failures: number;
}

@InputType({ description: 'A provider connection whose stored key to check with the provider now.' })
export class VerifyProviderConnectionInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => Provider, { description: 'The provider.' })
  provider: Provider;
}

@InputType({ description: "A provider account to connect with the organization's own API key." })
export class ConnectProviderInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => Provider, { description: 'The provider.' })
  provider: Provider;

  @Field({
    description:
      "The API key: 'sk-ant-…' for Anthropic, 'sk-…' for OpenAI. It is checked with the provider, stored encrypted and never shown again.",
  })
  apiKey: string;
}

@InputType({ description: 'A provider connection to remove.' })
export class DisconnectProviderInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => Provider, { description: 'The provider to disconnect.' })
  provider: Provider;
}
