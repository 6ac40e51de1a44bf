import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type BreakingChange, findBreakingChanges, findDangerousChanges, parse } from 'graphql';
import { printSubgraphSchema } from '../src/schema';

const SCHEMA_FILE = path.join(__dirname, '..', 'schema', 'schema.graphql');
/** The public contract, kept in the repository so that a clone alone can check against it. */
const CONTRACT_FILE = path.join(__dirname, '..', 'schema', 'contract.graphql');
/**
 * Where the design is published: beside the project in the team's workspace, or beside the folder
 * of worktrees when this is one (absent in a bare clone).
 */
const published = (name: string) =>
  [path.join(__dirname, '..', '..', 'shared', 'design', name), path.join(__dirname, '..', '..', '..', 'shared', 'design', name)].find((file) => existsSync(file)) ??
  path.join(__dirname, '..', '..', 'shared', 'design', name);
const PUBLISHED_CONTRACT_FILE = published('contract.graphql');
/** The groups of additions the open issues bring, beside the contract. */
const CONTRACT_NEXT_FILE = published('contract-next.graphql');

/** One group of contract-next.graphql: the text under the rule whose heading starts with `heading`. */
function contractNextGroup(heading: string): string {
  const groups = readFileSync(CONTRACT_NEXT_FILE, 'utf8').split(/^# -{20,}\n/m);
  const group = groups.find((text) => text.startsWith(`# ${heading}`));
  if (!group) throw new Error(`contract-next.graphql has no group headed "${heading}"`);
  return group;
}


describe('the emitted schema', () => {
  it('matches schema/schema.graphql (run `npm run schema:emit` after changing the schema)', async () => {
    expect(await printSubgraphSchema()).toBe(readFileSync(SCHEMA_FILE, 'utf8'));
  });

  it('keeps every name and nullability of the public contract', async () => {
    const contract = buildSubgraphSchema(parse(readFileSync(CONTRACT_FILE, 'utf8')));
    const ours = buildSubgraphSchema(parse(await printSubgraphSchema()));
    const breaking = findBreakingChanges(contract, ours).map((change: BreakingChange) => change.description);
    expect(breaking).toEqual([]);
  });

  it('keeps the default values of the public contract (additions are allowed)', async () => {
    const contract = buildSubgraphSchema(parse(readFileSync(CONTRACT_FILE, 'utf8')));
    const ours = buildSubgraphSchema(parse(await printSubgraphSchema()));
    // An enum value is an addition too (contract-next.graphql extends AuditAction).
    const dangerous = findDangerousChanges(contract, ours).filter((change) => !change.type.endsWith('_ADDED') && change.type !== 'VALUE_ADDED_TO_ENUM');
    expect(dangerous.map((change) => change.description)).toEqual([]);
  });

  it('describes every type and field it defines', async () => {
    const ours = buildSubgraphSchema(parse(await printSubgraphSchema()));
    const undocumented = Object.values(ours.getTypeMap())
      .filter((type) => !type.name.startsWith('_') && !['Query', 'Mutation', 'String', 'Boolean', 'ID', 'Int', 'Float'].includes(type.name))
      .flatMap((type) => {
        const own = type.description ? [] : [type.name];
        const fields = 'getFields' in type ? Object.values(type.getFields()) : [];
        return [...own, ...fields.filter((field) => !field.description).map((field) => `${type.name}.${field.name}`)];
      });
    expect(undocumented.filter((name) => !name.startsWith('link__') && !name.startsWith('federation__'))).toEqual([]);
  });
});

(existsSync(PUBLISHED_CONTRACT_FILE) ? describe : describe.skip)('schema/contract.graphql', () => {
  it('is the published contract, word for word (copy ../shared/design/contract.graphql when it changes)', () => {
    expect(readFileSync(CONTRACT_FILE, 'utf8')).toBe(readFileSync(PUBLISHED_CONTRACT_FILE, 'utf8'));
  });
});

(existsSync(CONTRACT_NEXT_FILE) ? describe : describe.skip)('contract-next.graphql groups that are built', () => {
  it.each(['The Models settings page', 'Routing that knows the health of accounts and models'])('holds the group "%s" exactly as written (names, types, nullability, arguments)', async (heading) => {
    const contract = readFileSync(CONTRACT_FILE, 'utf8');
    const withGroup = buildSubgraphSchema(parse(`${contract}\n${contractNextGroup(heading)}`));
    const ours = buildSubgraphSchema(parse(await printSubgraphSchema()));
    expect(findBreakingChanges(withGroup, ours).map((change) => change.description)).toEqual([]);
    const defaults = findDangerousChanges(withGroup, ours).filter((change) => !change.type.endsWith('_ADDED') && change.type !== 'VALUE_ADDED_TO_ENUM');
    expect(defaults.map((change) => change.description)).toEqual([]);
  });
});
