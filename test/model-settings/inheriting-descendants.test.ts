import type { DataSource } from 'typeorm';
import { catalog } from '../../src/catalog/catalog';
import { createDataSource } from '../../src/database/data-source';
import { computeEffectiveModels, ModelSource, type OwnSettings } from '../../src/model-settings/effective-models';
import { ModelSettingsRepository } from '../../src/model-settings/model-settings.repository';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeModelSettings, makeOrganization } from '../support/factories';

/** A small deterministic generator (mulberry32), so that a failing tree can be generated again. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Node {
  organization: OrganizationEntity;
  parent: Node | null;
  settings: OwnSettings | null;
}

/**
 * The SQL form of downward inheritance (INHERITING_DESCENDANTS, which updateModelSettings counts
 * and disconnectProvider names) against the pure rule: on generated trees, the descendants the
 * statement finds for an organization that offers its settings are exactly those whose effective
 * models computeEffectiveModels says are inherited from it.
 */
describe('the descendants inheriting from an organization (INHERITING_DESCENDANTS)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = createDataSource({ url: database.url, poolSize: 2 });
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** A tree of `size` organizations under one root, each parent drawn among those before it; settings on some, offered by some. */
  async function generateTree(seed: number, size: number): Promise<Node[]> {
    const next = random(seed);
    const [primary, fallback] = catalog.models;
    const nodes: Node[] = [];
    for (let index = 0; index < size; index += 1) {
      // Deep as well as wide: the parent is mostly one of the last few added.
      const parent = index === 0 ? null : nodes[Math.max(0, index - 1 - Math.floor(next() * Math.min(index, next() < 0.7 ? 3 : index)))];
      const organization = await makeOrganization(dataSource, { name: `Tree ${seed} node ${index}`, parent: parent?.organization ?? null });
      const roll = next();
      const settings: OwnSettings | null =
        index === 0 || roll < 0.45
          ? { primaryModelId: primary.id, fallbackModelId: next() < 0.5 ? fallback.id : null, exclusive: next() < 0.3, offerToSubOrganizations: index === 0 || next() < 0.6 }
          : null;
      if (settings) await makeModelSettings(dataSource, organization, settings);
      nodes.push({ organization, parent, settings });
    }
    return nodes;
  }

  /** The pure rule's answer: the descendants of `giver` whose effective models are inherited from it. */
  function inheritingByRule(nodes: Node[], giver: Node): string[] {
    return nodes
      .filter((node) => {
        const ancestors: Node[] = [];
        for (let up = node.parent; up; up = up.parent) ancestors.push(up);
        if (!ancestors.includes(giver)) return false;
        const effective = computeEffectiveModels(
          {
            organizationId: node.organization.id,
            settings: node.settings,
            connectedProviders: [],
            ancestors: ancestors.map((ancestor) => ({ organizationId: ancestor.organization.id, settings: ancestor.settings })),
          },
          catalog,
        );
        return effective.source === ModelSource.INHERITED && effective.inheritedFromId === giver.organization.id;
      })
      .map((node) => node.organization.id)
      .sort();
  }

  it.each([1, 2, 3, 4, 5, 6])('finds what computeEffectiveModels finds, for every offering organization of generated tree %i', async (seed) => {
    const nodes = await generateTree(seed, 40);
    const repository = new ModelSettingsRepository(dataSource);
    const givers = nodes.filter((node) => node.settings?.offerToSubOrganizations);
    expect(givers.length).toBeGreaterThan(1);
    let inheritingSeen = 0;
    for (const giver of givers) {
      const expected = inheritingByRule(nodes, giver);
      const found = await repository.inheritingDescendants(giver.organization.id, nodes.length);
      expect({ giver: giver.organization.name, inheriting: found.map((row) => row.id).sort() }).toEqual({ giver: giver.organization.name, inheriting: expected });
      for (const row of found) expect(row.total).toBe(expected.length);
      // Only the count (limit 0): one row carrying the total, none when nobody inherits.
      const [counted] = await repository.inheritingDescendants(giver.organization.id, 0);
      expect(counted?.total ?? 0).toBe(expected.length);
      inheritingSeen += expected.length;
    }
    // The trees are not trivial: some organizations do inherit.
    expect(inheritingSeen).toBeGreaterThan(0);
  });
});
