import { JSONResolver } from 'graphql-scalars';
import { Directive, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { type CatalogModel, ModelCapability, Provider } from '../catalog/catalog';
import { Billing } from '../catalog/model-options';
import { Model } from '../catalog/model.types';
import { AttemptOutcome, RunStatus } from './run.entity';

export enum MessageRole {
  USER = 'USER',
  ASSISTANT = 'ASSISTANT',
}

registerEnumType(RunStatus, {
  name: 'RunStatus',
  description: 'How a run ended.',
  valuesConfig: {
    SUCCEEDED: { description: 'A model answered.' },
    FAILED: { description: 'No model answered; `error` says why.' },
  },
});

registerEnumType(AttemptOutcome, {
  name: 'AttemptOutcome',
  description: 'How one step of a run ended.',
  valuesConfig: {
    SUCCEEDED: { description: 'The model answered.' },
    FAILED: { description: 'The call failed; `reason` says why.' },
    SKIPPED: {
      description:
        'Not sent; `reason` says why: UNSUPPORTED_FEATURE (the model lacks a capability the request needs and the next model has it), DEADLINE_EXCEEDED (nothing was left of the run\'s deadline), CANCELLED or INTERRUPTED (the run was stopped before this call).',
    },
  },
});

registerEnumType(MessageRole, {
  name: 'MessageRole',
  description: 'Who wrote a message of a conversation.',
  valuesConfig: { USER: { description: 'The user.' }, ASSISTANT: { description: 'The model, in an earlier turn.' } },
});

@ObjectType({ description: 'A tool the model asked to call.' })
export class ToolCall {
  @Field({ description: 'The name of the tool, as the request gave it.' })
  name: string;

  @Field(() => JSONResolver, { description: 'The input the model gave the tool.' })
  input: unknown;
}

@ObjectType({ description: "A model's answer." })
export class RunOutput {
  @Field({ description: 'The text of the answer.' })
  text: string;

  @Field(() => [ToolCall], { description: 'The tools the model asked to call, in order.' })
  toolCalls: ToolCall[];
}

@ObjectType({ description: 'An error a provider answered with, or a call that got no answer. Never holds a key.' })
export class ProviderError {
  @Field(() => Provider, { description: 'The provider called.' })
  provider: Provider;

  @Field(() => Int, { nullable: true, description: "The provider's HTTP status; null when there was no answer (a timeout, a connection failure)." })
  httpStatus: number | null;

  @Field({ description: "The provider's error type, e.g. rate_limit_error; or the service's own: timeout, connection_error, no_credentials, cancelled, interrupted, deadline_exceeded." })
  type: string;

  @Field({ description: "The provider's message, kept short." })
  message: string;
}

@ObjectType({ description: "One step of a run's monitor timeline." })
export class RunAttempt {
  @Field(() => Model, { description: 'The model tried.' })
  model: CatalogModel;

  @Field(() => Provider, { description: 'The provider of the model.' })
  provider: Provider;

  @Field(() => Billing, { description: 'Who paid for the call.' })
  billing: Billing;

  @Field(() => AttemptOutcome, { description: 'How the step ended.' })
  outcome: AttemptOutcome;

  @Field(() => String, {
    nullable: true,
    description:
      'Why an attempt failed or was skipped. A provider answer: RATE_LIMITED, OVERLOADED, PROVIDER_UNAVAILABLE, PROVIDER_ERROR, REQUEST_TIMEOUT, CONFLICT, INVALID_REQUEST, INVALID_API_KEY, PERMISSION_DENIED, NOT_FOUND, REQUEST_TOO_LARGE, UNEXPECTED_RESPONSE. No answer: TIMEOUT, CONNECTION_FAILED, and CANCELLED (the caller went away) or INTERRUPTED (the service stopped), the call aborted and the run ended. Not sent: NO_CREDENTIALS, UNSUPPORTED_FEATURE, DEADLINE_EXCEEDED, and CANCELLED or INTERRUPTED on a SKIPPED step.',
  })
  reason: string | null;

  @Field(() => Int, { nullable: true, description: "The provider's HTTP status; null when no answer came or nothing was sent." })
  httpStatus: number | null;

  @Field(() => Int, { description: 'How long the call took, in milliseconds (0 for a skipped step).' })
  latencyMs: number;

  @Field(() => Int, { nullable: true, description: 'Input tokens the provider counted.' })
  inputTokens: number | null;

  @Field(() => Int, { nullable: true, description: 'Output tokens the provider counted.' })
  outputTokens: number | null;

  @Field(() => ProviderError, { nullable: true, description: 'What went wrong, for a failed attempt, or why a step was not sent when the run was stopped or out of time.' })
  error: ProviderError | null;

  @Field({ description: 'When the step started.' })
  startedAt: Date;
}

@ObjectType({ description: 'A run of an agent: its outcome and its monitor timeline.' })
@Directive('@key(fields: "id")')
export class Run {
  @Field(() => ID, { description: 'The run id (a UUID).' })
  id: string;

  @Field(() => RunStatus, { description: 'How the run ended.' })
  status: RunStatus;

  @Field(() => RunOutput, { nullable: true, description: "The model's answer; null when the run failed." })
  output: RunOutput | null;

  @Field(() => [ModelCapability], { description: 'Capabilities the request asked for that the answering model lacks, e.g. AGENT_TOOLS (a text-only answer).' })
  degradedFeatures: ModelCapability[];

  @Field(() => ProviderError, { nullable: true, description: 'The provider error that ended a failed run.' })
  error: ProviderError | null;

  @Field({ description: 'When the run started.' })
  createdAt: Date;
}

@ObjectType({ description: "An organization's use of one model, paid one way, in a period." })
export class UsageRow {
  @Field(() => Provider, { description: 'The provider.' })
  provider: Provider;

  @Field(() => Model, { description: 'The model.' })
  model: CatalogModel;

  @Field(() => Billing, { description: 'Who paid.' })
  billing: Billing;

  @Field(() => Int, { description: 'How many runs called this model, paid this way.' })
  runs: number;

  @Field(() => Int, { description: 'Input tokens, summed over the calls.' })
  inputTokens: number;

  @Field(() => Int, { description: 'Output tokens, summed over the calls.' })
  outputTokens: number;

  @Field(() => Float, { description: 'Platform credits consumed: only for PLATFORM_CREDITS, at the catalog rate of the model.' })
  platformCredits: number;
}

@InputType({ description: 'One message of the conversation.' })
export class MessageInput {
  @Field(() => MessageRole, { description: 'Who wrote it.' })
  role: MessageRole;

  @Field({ description: 'Its text.' })
  content: string;
}

@InputType({ description: 'A tool the model may ask to call.' })
export class ToolInput {
  @Field({ description: 'Its name: 1 to 64 letters, digits, "_" or "-", unique in the request.' })
  name: string;

  @Field(() => String, { nullable: true, description: 'What it does, for the model.' })
  description?: string | null;

  @Field(() => JSONResolver, { description: 'A JSON Schema of type object for its input.' })
  inputSchema: unknown;
}

@InputType({ description: 'What to send to an agent.' })
export class RunAgentInput {
  @Field(() => ID, { description: 'The agent.' })
  agentId: string;

  @Field(() => [MessageInput], { description: 'The conversation so far, oldest first.' })
  messages: MessageInput[];

  @Field(() => String, { nullable: true, description: 'The system prompt.' })
  system?: string | null;

  @Field(() => [ToolInput], { nullable: true, description: 'Tools the model may ask to call; models without AGENT_TOOLS answer without them.' })
  tools?: ToolInput[] | null;

  @Field(() => Int, { nullable: true, defaultValue: 1024, description: 'The most tokens the answer may have.' })
  maxTokens?: number | null;
}
