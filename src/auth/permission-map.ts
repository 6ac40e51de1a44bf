/**
 * Who may do what (DESIGN.md section 2): the whole map, in one place, deny by default. The rules
 * it is made of are in src/auth/rules.ts; src/auth/permissions.ts applies it to the schema.
 */
import { allow, chain, type IRules } from 'graphql-shield';
import {
  agentFromArgument,
  agentFromInput,
  fromArgument,
  fromInput,
  fromParent,
  isAuthenticated,
  isOperator,
  organizationOf,
  organizationRule,
  ownerOfParent,
  READS_EFFECTIVE_MODELS,
  selects,
  soundRepresentations,
} from './rules';

export const permissionRules: IRules = {
  Query: {
    _service: allow,
    // A token and sound representations for the field; then each entity's own fields' rules, below
    // (and entityReferences: unknown ids look like ones the caller may not see).
    _entities: chain(isAuthenticated, soundRepresentations),
    viewer: isAuthenticated,
    modelCatalog: isAuthenticated,
    // Each caller sees only what they may list (the service filters): operators all, others theirs.
    organizations: isAuthenticated,
    organization: organizationRule('canSee', fromArgument('id'), selects('effectiveModels')),
    resolveModel: organizationRule('isMember', fromArgument('organizationId'), READS_EFFECTIVE_MODELS),
    agent: organizationRule('isMember', agentFromArgument('id')),
    run: organizationRule('isMember', organizationOf('run', 'id', (args) => args.id)),
  },
  Mutation: {
    createOrganization: isOperator,
    moveOrganization: isOperator,
    setMembership: isOperator,
    removeMembership: isOperator,
    connectProvider: organizationRule('isAdmin', fromInput('organizationId')),
    disconnectProvider: organizationRule('isAdmin', fromInput('organizationId')),
    verifyProviderConnection: organizationRule('isAdmin', fromInput('organizationId')),
    updateModelSettings: organizationRule('isAdmin', fromInput('organizationId')),
    clearModelSettings: organizationRule('isAdmin', fromInput('organizationId')),
    createAgent: organizationRule('isMember', fromInput('organizationId'), READS_EFFECTIVE_MODELS),
    setAgentModel: organizationRule('isMember', agentFromInput('agentId'), READS_EFFECTIVE_MODELS),
    runAgent: organizationRule('isMember', agentFromInput('agentId'), READS_EFFECTIVE_MODELS),
    uploadFile: organizationRule('isMember', fromInput('organizationId'), READS_EFFECTIVE_MODELS),
  },
  _Service: allow,
  // Reached only through Query.viewer.
  Viewer: allow,
  // Reached through modelCatalog, guarded fields, and _entities, whose Model reference needs a token.
  Model: allow,
  // Reached only through the guarded fields and operations above.
  Membership: allow,
  Organization: {
    id: isAuthenticated,
    name: organizationRule('canSee', fromParent),
    viewerRole: organizationRule('isMember', fromParent),
    parent: organizationRule('isMember', fromParent),
    subOrganizations: organizationRule('isMember', fromParent),
    isParent: organizationRule('isMember', fromParent),
    memberships: organizationRule('isAdmin', fromParent),
    providerConnections: organizationRule('isAdmin', fromParent),
    auditLog: organizationRule('isAdmin', fromParent),
    effectiveModels: organizationRule('isMember', fromParent, READS_EFFECTIVE_MODELS),
    modelSettings: organizationRule('isAdmin', fromParent),
    pinnableModels: organizationRule('isAdmin', fromParent),
    agents: organizationRule('isMember', fromParent),
    usage: organizationRule('isAdmin', fromParent),
  },
  Agent: {
    id: isAuthenticated,
    '*': organizationRule('isMember', ownerOfParent),
  },
  Run: {
    id: isAuthenticated,
    '*': organizationRule('isMember', ownerOfParent),
  },
  // Values reached only through the guarded fields and operations above: their fields add nothing to guard.
  ProviderConnection: allow,
  ModelCooldown: allow,
  AuditEventConnection: allow,
  AuditEventEdge: allow,
  AuditEvent: allow,
  PageInfo: allow,
  EffectiveModels: allow,
  ModelOption: allow,
  ModelSettings: allow,
  UpdateModelSettingsPayload: allow,
  SettingsNotice: allow,
  OrganizationConnection: allow,
  OrganizationEdge: allow,
  RunAttempt: allow,
  RunOutput: allow,
  ToolCall: allow,
  ProviderError: allow,
  UsageRow: allow,
  UploadedFile: allow,
};
