/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment ModelFields on Model {\n    id\n    displayName\n    provider\n    capabilities\n  }\n": typeof types.ModelFieldsFragmentDoc,
    "\n  fragment ConnectionFields on ProviderConnection {\n    id\n    provider\n    keyHint\n    status\n    connectedAt\n    rotatedAt\n    lastVerifiedAt\n  }\n": typeof types.ConnectionFieldsFragmentDoc,
    "\n  fragment EffectiveFields on EffectiveModels {\n    source\n    exclusive\n    inheritedFrom {\n      id\n      name\n    }\n    primary {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    fallback {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    availableModels {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n  }\n": typeof types.EffectiveFieldsFragmentDoc,
    "\n  fragment SettingsFields on ModelSettings {\n    primaryModel {\n      id\n    }\n    fallbackModel {\n      id\n    }\n    exclusive\n    offerToSubOrganizations\n    version\n    updatedAt\n    updatedBy\n  }\n": typeof types.SettingsFieldsFragmentDoc,
    "\n  query SettingsPage($id: ID!) {\n    viewer {\n      userId\n      isOperator\n    }\n    organization(id: $id) {\n      id\n      name\n      viewerRole\n      isParent\n      parent {\n        id\n        name\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n      modelSettings {\n        ...SettingsFields\n      }\n      providerConnections {\n        ...ConnectionFields\n      }\n      pinnableModels {\n        ...ModelFields\n      }\n    }\n  }\n": typeof types.SettingsPageDocument,
    "\n  mutation ConnectProvider($input: ConnectProviderInput!) {\n    connectProvider(input: $input) {\n      ...ConnectionFields\n      organization {\n        id\n        providerConnections {\n          ...ConnectionFields\n        }\n        pinnableModels {\n          ...ModelFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n": typeof types.ConnectProviderDocument,
    "\n  mutation DisconnectProvider($input: DisconnectProviderInput!) {\n    disconnectProvider(input: $input)\n  }\n": typeof types.DisconnectProviderDocument,
    "\n  mutation UpdateModelSettings($input: UpdateModelSettingsInput!) {\n    updateModelSettings(input: $input) {\n      inheritingSubOrganizations\n      notices {\n        code\n        message\n        capability\n        model {\n          id\n        }\n      }\n      organization {\n        id\n        modelSettings {\n          ...SettingsFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n": typeof types.UpdateModelSettingsDocument,
    "\n  mutation ClearModelSettings($input: ClearModelSettingsInput!) {\n    clearModelSettings(input: $input) {\n      id\n      modelSettings {\n        ...SettingsFields\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n    }\n  }\n": typeof types.ClearModelSettingsDocument,
};
const documents: Documents = {
    "\n  fragment ModelFields on Model {\n    id\n    displayName\n    provider\n    capabilities\n  }\n": types.ModelFieldsFragmentDoc,
    "\n  fragment ConnectionFields on ProviderConnection {\n    id\n    provider\n    keyHint\n    status\n    connectedAt\n    rotatedAt\n    lastVerifiedAt\n  }\n": types.ConnectionFieldsFragmentDoc,
    "\n  fragment EffectiveFields on EffectiveModels {\n    source\n    exclusive\n    inheritedFrom {\n      id\n      name\n    }\n    primary {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    fallback {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    availableModels {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n  }\n": types.EffectiveFieldsFragmentDoc,
    "\n  fragment SettingsFields on ModelSettings {\n    primaryModel {\n      id\n    }\n    fallbackModel {\n      id\n    }\n    exclusive\n    offerToSubOrganizations\n    version\n    updatedAt\n    updatedBy\n  }\n": types.SettingsFieldsFragmentDoc,
    "\n  query SettingsPage($id: ID!) {\n    viewer {\n      userId\n      isOperator\n    }\n    organization(id: $id) {\n      id\n      name\n      viewerRole\n      isParent\n      parent {\n        id\n        name\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n      modelSettings {\n        ...SettingsFields\n      }\n      providerConnections {\n        ...ConnectionFields\n      }\n      pinnableModels {\n        ...ModelFields\n      }\n    }\n  }\n": types.SettingsPageDocument,
    "\n  mutation ConnectProvider($input: ConnectProviderInput!) {\n    connectProvider(input: $input) {\n      ...ConnectionFields\n      organization {\n        id\n        providerConnections {\n          ...ConnectionFields\n        }\n        pinnableModels {\n          ...ModelFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n": types.ConnectProviderDocument,
    "\n  mutation DisconnectProvider($input: DisconnectProviderInput!) {\n    disconnectProvider(input: $input)\n  }\n": types.DisconnectProviderDocument,
    "\n  mutation UpdateModelSettings($input: UpdateModelSettingsInput!) {\n    updateModelSettings(input: $input) {\n      inheritingSubOrganizations\n      notices {\n        code\n        message\n        capability\n        model {\n          id\n        }\n      }\n      organization {\n        id\n        modelSettings {\n          ...SettingsFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n": types.UpdateModelSettingsDocument,
    "\n  mutation ClearModelSettings($input: ClearModelSettingsInput!) {\n    clearModelSettings(input: $input) {\n      id\n      modelSettings {\n        ...SettingsFields\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n    }\n  }\n": types.ClearModelSettingsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ModelFields on Model {\n    id\n    displayName\n    provider\n    capabilities\n  }\n"): (typeof documents)["\n  fragment ModelFields on Model {\n    id\n    displayName\n    provider\n    capabilities\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ConnectionFields on ProviderConnection {\n    id\n    provider\n    keyHint\n    status\n    connectedAt\n    rotatedAt\n    lastVerifiedAt\n  }\n"): (typeof documents)["\n  fragment ConnectionFields on ProviderConnection {\n    id\n    provider\n    keyHint\n    status\n    connectedAt\n    rotatedAt\n    lastVerifiedAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment EffectiveFields on EffectiveModels {\n    source\n    exclusive\n    inheritedFrom {\n      id\n      name\n    }\n    primary {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    fallback {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    availableModels {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment EffectiveFields on EffectiveModels {\n    source\n    exclusive\n    inheritedFrom {\n      id\n      name\n    }\n    primary {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    fallback {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n    availableModels {\n      billing\n      model {\n        ...ModelFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SettingsFields on ModelSettings {\n    primaryModel {\n      id\n    }\n    fallbackModel {\n      id\n    }\n    exclusive\n    offerToSubOrganizations\n    version\n    updatedAt\n    updatedBy\n  }\n"): (typeof documents)["\n  fragment SettingsFields on ModelSettings {\n    primaryModel {\n      id\n    }\n    fallbackModel {\n      id\n    }\n    exclusive\n    offerToSubOrganizations\n    version\n    updatedAt\n    updatedBy\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SettingsPage($id: ID!) {\n    viewer {\n      userId\n      isOperator\n    }\n    organization(id: $id) {\n      id\n      name\n      viewerRole\n      isParent\n      parent {\n        id\n        name\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n      modelSettings {\n        ...SettingsFields\n      }\n      providerConnections {\n        ...ConnectionFields\n      }\n      pinnableModels {\n        ...ModelFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query SettingsPage($id: ID!) {\n    viewer {\n      userId\n      isOperator\n    }\n    organization(id: $id) {\n      id\n      name\n      viewerRole\n      isParent\n      parent {\n        id\n        name\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n      modelSettings {\n        ...SettingsFields\n      }\n      providerConnections {\n        ...ConnectionFields\n      }\n      pinnableModels {\n        ...ModelFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConnectProvider($input: ConnectProviderInput!) {\n    connectProvider(input: $input) {\n      ...ConnectionFields\n      organization {\n        id\n        providerConnections {\n          ...ConnectionFields\n        }\n        pinnableModels {\n          ...ModelFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ConnectProvider($input: ConnectProviderInput!) {\n    connectProvider(input: $input) {\n      ...ConnectionFields\n      organization {\n        id\n        providerConnections {\n          ...ConnectionFields\n        }\n        pinnableModels {\n          ...ModelFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisconnectProvider($input: DisconnectProviderInput!) {\n    disconnectProvider(input: $input)\n  }\n"): (typeof documents)["\n  mutation DisconnectProvider($input: DisconnectProviderInput!) {\n    disconnectProvider(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateModelSettings($input: UpdateModelSettingsInput!) {\n    updateModelSettings(input: $input) {\n      inheritingSubOrganizations\n      notices {\n        code\n        message\n        capability\n        model {\n          id\n        }\n      }\n      organization {\n        id\n        modelSettings {\n          ...SettingsFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateModelSettings($input: UpdateModelSettingsInput!) {\n    updateModelSettings(input: $input) {\n      inheritingSubOrganizations\n      notices {\n        code\n        message\n        capability\n        model {\n          id\n        }\n      }\n      organization {\n        id\n        modelSettings {\n          ...SettingsFields\n        }\n        effectiveModels {\n          ...EffectiveFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClearModelSettings($input: ClearModelSettingsInput!) {\n    clearModelSettings(input: $input) {\n      id\n      modelSettings {\n        ...SettingsFields\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation ClearModelSettings($input: ClearModelSettingsInput!) {\n    clearModelSettings(input: $input) {\n      id\n      modelSettings {\n        ...SettingsFields\n      }\n      effectiveModels {\n        ...EffectiveFields\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;