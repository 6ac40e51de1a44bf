import { graphql } from './gql';

/**
 * Every operation the page sends. The page asks for all it could show in one query; fields the
 * caller may not read come back null with FORBIDDEN (errorPolicy 'all'), and the page shows what
 * arrived. Mutations ask for the organization back, so that Apollo Client's cache follows them.
 */

export const MODEL_FIELDS = graphql(`
  fragment ModelFields on Model {
    id
    displayName
    provider
    capabilities
  }
`);

export const CONNECTION_FIELDS = graphql(`
  fragment ConnectionFields on ProviderConnection {
    id
    provider
    keyHint
    status
    connectedAt
    rotatedAt
    lastVerifiedAt
  }
`);

export const EFFECTIVE_FIELDS = graphql(`
  fragment EffectiveFields on EffectiveModels {
    source
    exclusive
    inheritedFrom {
      id
      name
    }
    primary {
      billing
      model {
        ...ModelFields
      }
    }
    fallback {
      billing
      model {
        ...ModelFields
      }
    }
    availableModels {
      billing
      model {
        ...ModelFields
      }
    }
  }
`);

export const SETTINGS_FIELDS = graphql(`
  fragment SettingsFields on ModelSettings {
    primaryModel {
      id
    }
    fallbackModel {
      id
    }
    exclusive
    offerToSubOrganizations
    version
    updatedAt
    updatedBy
  }
`);

export const SETTINGS_PAGE = graphql(`
  query SettingsPage($id: ID!) {
    viewer {
      userId
      isOperator
    }
    organization(id: $id) {
      id
      name
      viewerRole
      isParent
      parent {
        id
        name
      }
      effectiveModels {
        ...EffectiveFields
      }
      modelSettings {
        ...SettingsFields
      }
      providerConnections {
        ...ConnectionFields
      }
      pinnableModels {
        ...ModelFields
      }
    }
  }
`);

export const CONNECT_PROVIDER = graphql(`
  mutation ConnectProvider($input: ConnectProviderInput!) {
    connectProvider(input: $input) {
      ...ConnectionFields
      organization {
        id
        providerConnections {
          ...ConnectionFields
        }
        pinnableModels {
          ...ModelFields
        }
        effectiveModels {
          ...EffectiveFields
        }
      }
    }
  }
`);

export const DISCONNECT_PROVIDER = graphql(`
  mutation DisconnectProvider($input: DisconnectProviderInput!) {
    disconnectProvider(input: $input)
  }
`);

export const UPDATE_MODEL_SETTINGS = graphql(`
  mutation UpdateModelSettings($input: UpdateModelSettingsInput!) {
    updateModelSettings(input: $input) {
      inheritingSubOrganizations
      notices {
        code
        message
        capability
        model {
          id
        }
      }
      organization {
        id
        modelSettings {
          ...SettingsFields
        }
        effectiveModels {
          ...EffectiveFields
        }
      }
    }
  }
`);

export const CLEAR_MODEL_SETTINGS = graphql(`
  mutation ClearModelSettings($input: ClearModelSettingsInput!) {
    clearModelSettings(input: $input) {
      id
      modelSettings {
        ...SettingsFields
      }
      effectiveModels {
        ...EffectiveFields
      }
    }
  }
`);
