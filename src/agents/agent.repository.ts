import DataLoader from 'dataloader';
import type { Billing } from '../catalog/model-options';
import { all, byIdKeys, normalizeId, one } from '../database/keys';
import { type Runner, query, statement } from '../database/statements';
import { AgentEntity } from './agent.entity';

interface AgentRow {
  id: string;
  organization_id: string;
  name: string;
  model_id: string;
  billing: Billing;
  created_at: Date;
  updated_at: Date;
}

const AGENT_COLUMNS = 'a.id, a.organization_id, a.name, a.model_id, a.billing, a.created_at, a.updated_at';
const RETURNED_COLUMNS = 'id, organization_id, name, model_id, billing, created_at, updated_at';

function toAgent(row: AgentRow): AgentEntity {
  return Object.assign(new AgentEntity(), {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    modelId: row.model_id,
    billing: row.billing,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

const AGENTS_BY_ID = statement('agents_by_id', `SELECT ${AGENT_COLUMNS} FROM agent a WHERE a.id = ANY($1::uuid[])`);

const AGENTS_OF_ORGANIZATIONS = statement(
  'agents_of_organizations',
  `SELECT ${AGENT_COLUMNS} FROM agent a WHERE a.organization_id = ANY($1::uuid[]) ORDER BY a.created_at, a.id`,
);

const INSERT_AGENT = statement(
  'agent_insert',
  `INSERT INTO agent (organization_id, name, model_id, billing) VALUES ($1, $2, $3, $4) RETURNING ${RETURNED_COLUMNS}`,
);

const LOCK_AGENT = statement('agent_lock', `SELECT ${AGENT_COLUMNS} FROM agent a WHERE a.id = $1 FOR UPDATE`);

const SET_PIN = statement(
  'agent_set_pin',
  `UPDATE agent SET model_id = $2, billing = $3, updated_at = now() WHERE id = $1 RETURNING ${RETURNED_COLUMNS}`,
);

/** Agents and their pins. */
export class AgentRepository {
  constructor(private readonly db: Runner) {}

  /** Batch function: agents by id; null for ids without one. */
  byIds(keys: readonly string[]): Promise<(AgentEntity | null)[]> {
    return byIdKeys(keys, async (ids) => (await query<AgentRow>(this.db, AGENTS_BY_ID, [ids])).map(toAgent), (agent) => agent.id, one);
  }

  /** Batch function: each organization's agents, oldest first. */
  ofOrganizations(keys: readonly string[]): Promise<AgentEntity[][]> {
    return byIdKeys(keys, async (ids) => (await query<AgentRow>(this.db, AGENTS_OF_ORGANIZATIONS, [ids])).map(toAgent), (agent) => agent.organizationId, all);
  }

  async insert(values: { organizationId: string; name: string; modelId: string; billing: Billing }): Promise<AgentEntity> {
    const [row] = await query<AgentRow>(this.db, INSERT_AGENT, [values.organizationId, values.name, values.modelId, values.billing]);
    return toAgent(row);
  }

  /** The agent, locked for the transaction; null when there is none. */
  async lock(id: string): Promise<AgentEntity | null> {
    const [row] = await query<AgentRow>(this.db, LOCK_AGENT, [normalizeId(id)]);
    return row ? toAgent(row) : null;
  }

  /** Re-pins an agent and answers it as it is now. */
  async setPin(id: string, pin: { modelId: string; billing: Billing }): Promise<AgentEntity> {
    const [row] = await query<AgentRow>(this.db, SET_PIN, [normalizeId(id), pin.modelId, pin.billing]);
    if (!row) throw new Error(`The agent ${id} is gone`);
    return toAgent(row);
  }
}

export interface AgentLoaders {
  byId: DataLoader<string, AgentEntity | null>;
  /** An organization's agents, oldest first. */
  ofOrganization: DataLoader<string, AgentEntity[]>;
}

/** Per-request loaders of agents; each batch is one statement, and ids that are not UUIDs load as missing. */
export function createAgentLoaders(agents: AgentRepository): AgentLoaders {
  const options = { cacheKeyFn: normalizeId };
  return {
    byId: new DataLoader((keys) => agents.byIds(keys), options),
    ofOrganization: new DataLoader((keys) => agents.ofOrganizations(keys), options),
  };
}
