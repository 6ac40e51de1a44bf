import { randomUUID } from 'node:crypto';
import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import {
  errorsOf,
  makePermissionTree,
  makeRejectedAuthorizations,
  OPERATOR,
  type As,
  type PermissionTree,
  type RejectedAuthorizations,
  unauthenticatedCallers,
} from '../support/permission-tree';
import { type GraphQLResponse, startTestServer, type TestServer } from '../support/test-server';

/**
 * `_entities` costs a bounded amount before anything is read (DESIGN.md sections 2 and 10): at
 * most 1,000 representations (BAD_USER_INPUT before any SQL); without a valid token one
 * UNAUTHENTICATED error for the field before any SQL; and a caller who is not an operator cannot
 * tell an unknown id from one it may not see.
 *
 * The tree is test/support/permission-tree.ts's: eu-member is a member of Acme EU only, and may
 * not see Globex, its agent or its run.
 */

type Representation = { __typename: string; id: string };

const ENTITIES = (selection: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`;
const ANY_ENTITY = ENTITIES('... on Organization { id name } ... on Model { id alias } ... on Agent { id name } ... on Run { id status }');
/** DESIGN.md section 10: what a request may carry without a valid token. */
const ANONYMOUS_BODY_LIMIT = 64 * 1024;

describe('_entities: limits and what it tells (DESIGN.md sections 2 and 10)', () => {
  let server: TestServer;
  let tree: PermissionTree;
  let headers: RejectedAuthorizations;
  let globexAgent: string;
  let globexRun: string;
  let euAgent: string;

  beforeAll(async () => {
    server = await startTestServer();
    tree = await makePermissionTree(server.dataSource);
    headers = await makeRejectedAuthorizations(server);
    const agent = async (organization: OrganizationEntity, name: string) => {
      const [row] = await server.dataSource.query(
        `INSERT INTO agent (organization_id, name, model_id, billing) VALUES ($1, $2, 'claude-sonnet-4-6', 'PLATFORM_CREDITS') RETURNING id`,
        [organization.id, name],
      );
      return row.id as string;
    };
    globexAgent = await agent(tree.globex, 'Globex bot');
    euAgent = await agent(tree.acmeEu, 'EU bot');
    globexRun = randomUUID();
    await server.dataSource.query(
      `INSERT INTO run (id, organization_id, agent_id, requested_by, status, degraded_features) VALUES ($1, $2, $3, 'globex-admin', 'SUCCEEDED', '{}')`,
      [globexRun, tree.globex.id, globexAgent],
    );
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** The answer to `_entities`, the SQL statements it cost and how long it took. */
  async function entities(representations: unknown[], as: As, query = ANY_ENTITY) {
    let answer: GraphQLResponse | undefined;
    const started = performance.now();
    const statements = await server.countStatements(async () => {
      answer = await server.graphql(query, { as, variables: { r: representations } });
    });
    return { answer: answer!, statements, ms: performance.now() - started };
  }

  /** `count` representations of organizations (real ones, that would be read) and catalog models. */
  const mixed = (count: number): Representation[] =>
    Array.from({ length: count }, (_, index) =>
      index % 2 === 0 ? { __typename: 'Organization', id: [tree.acmeEu, tree.globex, tree.acme][index % 3].id } : { __typename: 'Model', id: 'x' },
    );

  describe('at most 1,000 representations', () => {
    it('refuses 1,001 with one BAD_USER_INPUT for the field, before any SQL', async () => {
      const { answer, statements, ms } = await entities(mixed(1_001), 'eu-member');
      expect(answer.status).toBe(200);
      expect(answer.data).toBeNull();
      expect(answer.errors).toEqual([
        expect.objectContaining({
          path: ['_entities'],
          message: '_entities takes at most 1000 representations; this request has 1001',
          extensions: { code: 'BAD_USER_INPUT', field: 'representations' },
        }),
      ]);
      expect(statements).toBe(0);
      expect(ms).toBeLessThan(2_000);
    });

    it('refuses 100,000 from an operator with one BAD_USER_INPUT, before any SQL, in bounded time', async () => {
      const { answer, statements, ms } = await entities(mixed(100_000), OPERATOR);
      expect(answer.errors?.map((error) => [error.path, error.extensions.code])).toEqual([[['_entities'], 'BAD_USER_INPUT']]);
      expect(answer.data).toBeNull();
      expect(statements).toBe(0);
      // Today's answer took 16 to 18 s; what is left is reading and parsing 7 MB of JSON.
      expect(ms).toBeLessThan(15_000); // generous: a loaded machine; the old code took 16 to 18 s on a quiet one
    });

    it('answers 1,000', async () => {
      const { answer } = await entities(mixed(1_000), OPERATOR);
      expect(answer.errors).toBeUndefined();
      expect(answer.data?._entities).toHaveLength(1_000);
      expect(answer.data?._entities[0]).toEqual({ id: tree.acmeEu.id, name: 'Acme EU' });
    });
  });

  describe('without a valid token', () => {
    it('answers 1,000 representations with exactly one UNAUTHENTICATED error, before any SQL, at once', async () => {
      const representations = mixed(1_000);
      expect(JSON.stringify({ query: ANY_ENTITY, variables: { r: representations } }).length).toBeLessThan(ANONYMOUS_BODY_LIMIT);
      const { answer, statements, ms } = await entities(representations, undefined);
      expect(answer.status).toBe(200);
      expect(answer.data).toBeNull();
      expect(answer.errors).toEqual([
        expect.objectContaining({ path: ['_entities'], message: expect.stringMatching(/^Authentication required/), extensions: { code: 'UNAUTHENTICATED' } }),
      ]);
      expect(statements).toBe(0);
      expect(ms).toBeLessThan(1_000);
    });

    it('says UNAUTHENTICATED, not BAD_USER_INPUT, for more than 1,000 representations', async () => {
      const { answer, statements } = await entities(mixed(1_001).filter((r) => r.__typename === 'Model').concat(mixed(502)), undefined);
      expect(errorsOf(answer)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
      expect(statements).toBe(0);
    });

    describe.each(unauthenticatedCallers(() => headers))('$label', ({ as, message }) => {
      it('gets one UNAUTHENTICATED error for the field and no entity, before any SQL', async () => {
        const { answer, statements } = await entities(
          [
            { __typename: 'Organization', id: tree.acmeEu.id },
            { __typename: 'Agent', id: euAgent },
            { __typename: 'Model', id: 'claude-sonnet-4-6' },
          ],
          as(),
        );
        expect(answer.data).toBeNull();
        expect(errorsOf(answer)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
        expect(answer.errors?.[0].message).toMatch(message);
        expect(statements).toBe(0);
        expect(JSON.stringify(answer)).not.toContain('Acme EU');
      });
    });
  });

  describe('malformed representations: BAD_USER_INPUT, never an internal error', () => {
    it.each([
      ['a type that is not an entity', [{ __typename: 'Viewer', id: 'x' }], /^representations\[0\] must name one of the entity types Agent, Model, Organization, Run in __typename$/],
      ['a type that does not exist', [{ __typename: 'Nope', id: 'x' }], /^representations\[0\] must name one of/],
      ['no __typename', [{ id: 'x' }], /^representations\[0\] must name one of/],
      ['not an object', [{ __typename: 'Model', id: 'x' }, 'Organization'], /^representations\[1\] must name one of/],
      ['an id that is a number', [{ __typename: 'Organization', id: 7 }], /^representations\[0\]\.id must be a string$/],
      ['no id', [{ __typename: 'Agent' }], /^representations\[0\]\.id must be a string$/],
    ])('refuses %s for the field, before any SQL', async (_case, representations, message) => {
      const { answer, statements } = await entities(representations, 'eu-member');
      expect(answer.data).toBeNull();
      expect(answer.errors).toEqual([expect.objectContaining({ path: ['_entities'], message: expect.stringMatching(message), extensions: { code: 'BAD_USER_INPUT', field: 'representations' } })]);
      expect(statements).toBe(0);
    });

    it.each([
      ['a member', 'eu-member' as As],
      ['an operator', OPERATOR as As],
    ])('gives %s null with BAD_USER_INPUT for a row id that is not a UUID, and the other entities', async (_case, as) => {
      const { answer } = await entities(
        [
          { __typename: 'Organization', id: 'acme-eu' },
          { __typename: 'Organization', id: tree.acmeEu.id },
          { __typename: 'Agent', id: '42' },
          { __typename: 'Run', id: `${globexRun}x` },
        ],
        as,
      );
      expect(answer.data?._entities).toEqual([null, { id: tree.acmeEu.id, name: 'Acme EU' }, null, null]);
      expect(answer.errors?.map((error) => [error.path, error.extensions.code, error.message])).toEqual([
        [['_entities', 0], 'BAD_USER_INPUT', 'representations[0].id must be a UUID'],
        [['_entities', 2], 'BAD_USER_INPUT', 'representations[2].id must be a UUID'],
        [['_entities', 3], 'BAD_USER_INPUT', 'representations[3].id must be a UUID'],
      ]);
    });
  });

  describe('an unknown id and one the caller may not see give the same answer', () => {
    /** The answer with every id of `ids` written as `<id>`, for comparison. */
    const masked = (answer: GraphQLResponse, ids: string[]) =>
      JSON.parse(ids.reduce((text, id) => text.split(id).join('<id>'), JSON.stringify({ data: answer.data, errors: answer.errors })));

    const CASES: { label: string; typename: string; unseen: () => string; selection: string }[] = [
      { label: 'an organization, with its name', typename: 'Organization', unseen: () => tree.globex.id, selection: '... on Organization { id name }' },
      {
        label: 'an organization, with members-only and admin-only fields',
        typename: 'Organization',
        unseen: () => tree.globex.id,
        // Nullable fields only: when a non-null one (isParent) fails, graphql-js nulls the entity and
        // reports the errors of the fields that settled before it, which depends on timing, not ids.
        selection: '... on Organization { id viewerRole effectiveModels { source } agents { id } memberships { userId } providerConnections { provider } }',
      },
      {
        label: 'an organization, with a non-null field that nulls it',
        typename: 'Organization',
        unseen: () => tree.globex.id,
        selection: '... on Organization { id isParent }',
      },
      { label: 'an organization, with its id alone', typename: 'Organization', unseen: () => tree.globex.id, selection: '... on Organization { id }' },
      { label: 'an agent', typename: 'Agent', unseen: () => globexAgent, selection: '... on Agent { id name organization { id } }' },
      { label: 'an agent, with its id alone', typename: 'Agent', unseen: () => globexAgent, selection: '... on Agent { id }' },
      { label: 'a run', typename: 'Run', unseen: () => globexRun, selection: '... on Run { id status agent { id } }' },
      { label: 'a run, with its nullable fields', typename: 'Run', unseen: () => globexRun, selection: '... on Run { id output { text } servedBy { billing } }' },
    ];

    it.each(CASES)('for $label: identical data and errors, FORBIDDEN with the same message', async ({ typename, unseen, selection }) => {
      const unknown = randomUUID();
      const query = ENTITIES(selection);
      const seen = await entities([{ __typename: typename, id: unseen() }], 'eu-member', query);
      const missing = await entities([{ __typename: typename, id: unknown }], 'eu-member', query);
      expect(masked(missing.answer, [unknown])).toEqual(masked(seen.answer, [unseen()]));
      for (const error of seen.answer.errors ?? []) expect(error.extensions.code).toBe('FORBIDDEN');
      // Upper case, as the gateway may pass an id on: the stored form comes back either way.
      const shouting = await entities([{ __typename: typename, id: unknown.toUpperCase() }], 'eu-member', query);
      expect(masked(shouting.answer, [unknown])).toEqual(masked(seen.answer, [unseen()]));
    });

    it('answers a batch mixing both in the same shape, one error per refused entity and field', async () => {
      const unknownOrg = randomUUID();
      const unknownAgent = randomUUID();
      const { answer } = await entities(
        [
          { __typename: 'Organization', id: tree.globex.id },
          { __typename: 'Organization', id: unknownOrg },
          { __typename: 'Agent', id: globexAgent },
          { __typename: 'Agent', id: unknownAgent },
          { __typename: 'Organization', id: tree.acmeEu.id },
          { __typename: 'Agent', id: euAgent },
        ],
        'eu-member',
      );
      expect(answer.data?._entities).toEqual([null, null, null, null, { id: tree.acmeEu.id, name: 'Acme EU' }, { id: euAgent, name: 'EU bot' }]);
      // The order of the errors follows the order in which the checks end.
      const errors = answer.errors?.map((error) => [error.path, error.extensions.code, error.message]);
      expect(errors?.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        [['_entities', 0, 'name'], 'FORBIDDEN', 'You are not allowed to see this organization'],
        [['_entities', 1, 'name'], 'FORBIDDEN', 'You are not allowed to see this organization'],
        [['_entities', 2, 'name'], 'FORBIDDEN', 'Only members of this organization may see or do this'],
        [['_entities', 3, 'name'], 'FORBIDDEN', 'Only members of this organization may see or do this'],
      ]);
    });

    it('gives an operator null without an error for an unknown id, and the entity it asked for otherwise', async () => {
      const { answer } = await entities(
        [
          { __typename: 'Organization', id: randomUUID() },
          { __typename: 'Agent', id: randomUUID() },
          { __typename: 'Run', id: randomUUID() },
          { __typename: 'Model', id: 'no-such-model' },
          { __typename: 'Agent', id: globexAgent },
        ],
        OPERATOR,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?._entities).toEqual([null, null, null, null, { id: globexAgent, name: 'Globex bot' }]);
    });

    it('costs no more statements for unknown ids than for ones the caller may not see', async () => {
      const unseen = await entities([tree.globex.id, tree.hooli.id].map((id) => ({ __typename: 'Organization', id })), 'eu-member');
      const unknown = await entities([randomUUID(), randomUUID()].map((id) => ({ __typename: 'Organization', id })), 'eu-member');
      expect(unknown.statements).toBe(unseen.statements);
    });
  });
});
