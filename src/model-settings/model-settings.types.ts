import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { type CatalogModel, ModelCapability } from '../catalog/catalog';
import { Model, ModelOption } from '../catalog/model.types';
import type { OrganizationEntity } from '../organizations/organization.entity';
import { Organization, OrganizationIdField } from '../organizations/organization.types';
import { ModelSource } from './effective-models';
import { SettingsNoticeCode } from './model-settings.rules';

registerEnumType(ModelSource, {
  name: 'ModelSource',
  description: 'Where an organization\'s effective models come from.',
  valuesConfig: {
    OWN: { description: "The organization's own model settings." },
    INHERITED: { description: 'The primary and fallback offered by an ancestor organization.' },
    PLATFORM: { description: "No BYOM settings apply: the platform's defaults." },
  },
});

/** The models an organization uses (computeEffectiveModels computes them): the one type of them, in the schema and in the code. */
@ObjectType({ description: 'The models an organization uses: its own, inherited from an ancestor, or the platform\'s.' })
export class EffectiveModels {
  @Field(() => ModelOption, { description: 'The model new agents are pinned to, and runs try first.' })
  primary: ModelOption;

  @Field(() => ModelOption, { nullable: true, description: 'The model runs fall over to when the primary fails with a retriable error; null when none.' })
  fallback: ModelOption | null;

  @Field(() => ModelSource, { description: 'Where these models come from.' })
  source: ModelSource;

  @Field({ description: "Whether the platform's models are hidden: only BYOM models are offered." })
  exclusive: boolean;

  @Field(() => [ModelOption], { description: 'What every model dropdown of this organization offers, unique by model id, BYOM before platform.' })
  availableModels: ModelOption[];

  /** The organization these are the models of. */
  organizationId: string;

  /** The ancestor whose settings apply, when source is INHERITED (`inheritedFrom` is resolved from it). */
  inheritedFromId: string | null;
}

@ObjectType({ description: "An organization's own BYOM settings (admins only)." })
export class ModelSettings {
  @Field({ description: "Whether the platform's models are hidden from the organization (exclusive mode)." })
  exclusive: boolean;

  @Field({ description: 'Whether sub-organizations without settings of their own inherit the primary and fallback.' })
  offerToSubOrganizations: boolean;

  @Field(() => Int, { description: 'Grows by one with every update; settings made after clearModelSettings continue from the version the cleared ones had, so a version never names two different settings. Pass it as expectedVersion to update or clear safely.' })
  version: number;

  @Field({ description: 'When the settings were last changed.' })
  updatedAt: Date;

  @Field(() => ID, { description: 'Who last changed them: the user id (`sub`) of the caller.' })
  updatedBy: string;
}

registerEnumType(SettingsNoticeCode, {
  name: 'SettingsNoticeCode',
  description: 'What a settings notice is about.',
  valuesConfig: {
    PRIMARY_LACKS_CAPABILITY: { description: 'The primary model lacks a capability, e.g. AGENT_TOOLS.' },
    FALLBACK_LACKS_CAPABILITY: { description: 'The fallback lacks a capability that the primary has.' },
    MODEL_RETIRING: { description: 'A pinned model retires within 90 days (see Model.retiresAt).' },
  },
});

@ObjectType({ description: 'A warning about saved settings, as data: what a page shows next to the field concerned.' })
export class SettingsNotice {
  @Field(() => SettingsNoticeCode, { description: 'What the notice is about.' })
  code: SettingsNoticeCode;

  @Field({ description: 'A sentence for people; the other fields say the same as data.' })
  message: string;

  @Field(() => Model, { nullable: true, description: 'The model concerned.' })
  model: CatalogModel | null;

  @Field(() => ModelCapability, { nullable: true, description: 'The capability concerned, when the notice is about one.' })
  capability: ModelCapability | null;
}

@ObjectType({ description: 'What updateModelSettings did.' })
export class UpdateModelSettingsPayload {
  @Field(() => ModelSettings, { description: 'The settings as stored.' })
  settings: ModelSettings;

  @Field(() => EffectiveModels, { description: "The organization's effective models now." })
  effectiveModels: EffectiveModels;

  @Field(() => [String], { description: 'E.g. a pinned model that lacks AGENT_TOOLS, or a fallback lacking a capability of the primary.' })
  warnings: string[];

  @Field(() => Organization, { description: 'The organization whose settings were saved, so that a client\'s cache can follow the change.' })
  organization: OrganizationEntity;

  @Field(() => [SettingsNotice], { description: 'The warnings, as data: what a page shows next to the field concerned.' })
  notices: SettingsNotice[];

  @Field(() => Int, { description: 'How many descendant organizations now take their models from this one.' })
  inheritingSubOrganizations: number;
}

@InputType({ description: "An organization's new model settings; they replace the old ones whole." })
export class UpdateModelSettingsInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => ID, { description: 'A full model id of the catalog (not an alias), on a provider the organization has connected.' })
  primaryModelId: string;

  @Field(() => ID, { nullable: true, description: 'A full model id other than the primary, possibly of the other provider; none for no fallback.' })
  fallbackModelId?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: "Hide the platform's models from the organization." })
  exclusive?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Offer the primary and fallback to every sub-organization without settings of its own (NOT_A_PARENT without sub-organizations).',
  })
  offerToSubOrganizations?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: 'When given, the update applies only if the stored version still equals it (0: no settings yet); CONFLICT otherwise.',
  })
  expectedVersion?: number | null;
}

@InputType({ description: "An organization whose own model settings to remove." })
export class ClearModelSettingsInput {
  @OrganizationIdField('The organization.')
  organizationId: string;

  @Field(() => Int, { nullable: true, description: 'When given, the settings are removed only if they are still at this version; CONFLICT otherwise.' })
  expectedVersion?: number | null;
}
