import { Directive, Field, ID, InputType, ObjectType } from 'type-graphql';
import { OrganizationIdField } from '../organizations/organization.types';

@ObjectType({ description: "An agent of an organization, pinned to one model." })
@Directive('@key(fields: "id")')
export class Agent {
  @Field(() => ID, { description: 'The agent id (a UUID).' })
  id: string;

  @Field({ description: "The agent's name." })
  name: string;

  @Field({ description: 'When the agent was created.' })
  createdAt: Date;
}

@InputType({ description: 'A new agent.' })
export class CreateAgentInput {
  @OrganizationIdField('The organization the agent belongs to.')
  organizationId: string;

  @Field({ description: 'Its name: 1 to 200 characters, trimmed.' })
  name: string;

  @Field(() => String, { nullable: true, description: "An alias or a full model id; the organization's effective primary when left out." })
  model?: string | null;
}

@InputType({ description: "An agent's new model." })
export class SetAgentModelInput {
  @Field(() => ID, { description: 'The agent.' })
  agentId: string;

  @Field({ description: 'An alias or a full model id, resolved for the agent\'s organization.' })
  model: string;
}
