import type { OrganizationEntity } from '../../src/organizations/organization.entity';
import { makeMembership, makeOrganization, OrgRole } from '../support/factories';
import {
  type As,
  CALLERS,
  canSee,
  errorsOf,
  makePermissionTree,
  makeRejectedAuthorizations,
  OPERATOR,
  type RejectedAuthorizations,
  unauthenticatedCallers,
} from '../support/permission-tree';
import { snapshotTables } from '../support/snapshot';
import { type GraphQLResponse, startTestServer, type TestServer } from '../support/test-server';

/**
 * The permission map (src/auth/permissions.ts) against DESIGN.md section 2, over real HTTP: every
 * operation and every guarded field of the schema, for every kind of caller.
 *
 * The tree every read test uses ("the organization" is Acme EU):
 *
 *   Acme            parent-admin (ADMIN)
 *   ├── Acme EU     eu-admin (ADMIN), eu-member (MEMBER)
 *   │   └── Acme EU Sales   sales-member (MEMBER)
 *   └── Acme US     us-member (MEMBER)
 *   Globex          globex-admin (ADMIN)
 *   Hooli           mixed (ADMIN), hooli-member (MEMBER)
 *   Umbrella        mixed (MEMBER)
 *
 * `stranger` has a valid token and no membership; `ops` is an operator.
 */

type Code = 'UNAUTHENTICATED' | 'FORBIDDEN';

describe('permissions (DESIGN.md section 2)', () => {
  let server: TestServer;
  let acme: OrganizationEntity;
  let acmeEu: OrganizationEntity;
  let sales: OrganizationEntity;
  let acmeUs: OrganizationEntity;
  let globex: OrganizationEntity;
  let hooli: OrganizationEntity;
  let umbrella: OrganizationEntity;
  /** Raw Authorization headers that must never authenticate; each claims to be the operator `ops`. */
  let headers: RejectedAuthorizations;

  beforeAll(async () => {
    server = await startTestServer();
    const ds = server.dataSource;
    ({ acme, acmeEu, sales, acmeUs, globex, hooli, umbrella } = await makePermissionTree(ds));

    headers = await makeRejectedAuthorizations(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Callers without a valid token: UNAUTHENTICATED, whatever their token claims. */
  const UNAUTHENTICATED = unauthenticatedCallers(() => headers);

  /** Callers with a valid token who are not operators. */
  const SIGNED_IN: { label: string; as: As }[] = CALLERS.filter(({ as }) => as !== OPERATOR).map(({ label, as }) => ({ label, as }));

  const organizationQuery = (selection: string) => `query($id: ID!) { organization(id: $id) { ${selection} } }`;
  const readOrganization = (selection: string, as: As, id = acmeEu.id) =>
    server.graphql(organizationQuery(selection), { as, variables: { id } });
  const ALL_FIELDS = 'id name viewerRole parent { id } subOrganizations { id } isParent memberships { userId }';

  describe('without a valid token', () => {
    const OPERATIONS: { name: string; query: () => string; variables?: () => Record<string, unknown>; data: unknown }[] = [
      // viewer and modelCatalog are non-null roots: the error nulls the whole data.
      { name: 'viewer', query: () => `{ viewer { userId isOperator } }`, data: null },
      { name: 'modelCatalog', query: () => `{ modelCatalog { id } }`, data: null },
      { name: 'organization', query: () => organizationQuery(ALL_FIELDS), variables: () => ({ id: acmeEu.id }), data: { organization: null } },
    ];

    describe.each(UNAUTHENTICATED)('$label', ({ as, message }) => {
      it.each(OPERATIONS)('is refused $name with UNAUTHENTICATED and no data', async ({ name, query, variables, data }) => {
        const result = await server.graphql(query(), { as: as(), variables: variables?.() });
        expect(result.status).toBe(200);
        expect(result.data).toEqual(data);
        expect(errorsOf(result)).toEqual([{ path: [name], code: 'UNAUTHENTICATED' }]);
        expect(result.errors?.[0].message).toMatch(message);
      });

      it('gets no entity through _entities: one UNAUTHENTICATED error for the field, before any SQL', async () => {
        let result: GraphQLResponse | undefined;
        const statements = await server.countStatements(async () => {
          result = await server.graphql(
            `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id name } ... on Model { id alias } } }`,
            {
              as: as(),
              variables: {
                r: [
                  { __typename: 'Organization', id: acmeEu.id },
                  { __typename: 'Model', id: 'claude-sonnet-4-6' },
                ],
              },
            },
          );
        });
        // _entities is non-null: its error nulls the data.
        expect(result?.data).toBeNull();
        expect(errorsOf(result!)).toEqual([{ path: ['_entities'], code: 'UNAUTHENTICATED' }]);
        expect(result?.errors?.[0].message).toMatch(message);
        expect(statements).toBe(0);
      });
    });

    it('never echoes the rejected token in the error', async () => {
      for (const key of ['noScheme', 'wrongSecret', 'expired', 'unsigned', 'noExp'] as const) {
        const token = headers[key].replace(/^Bearer /, '');
        const result = await server.graphql(`{ viewer { userId } }`, { as: { raw: headers[key] } });
        expect(result.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
        expect(JSON.stringify(result.errors)).not.toContain(token);
      }
    });
  });

  describe('Query.viewer and Query.modelCatalog: anyone with a valid token', () => {
    const VALID = CALLERS.map(({ label, as }) => ({ label, as }));

    it.each(VALID)('answers viewer for $label', async ({ as }) => {
      const result = await server.graphql(`{ viewer { userId isOperator } }`, { as });
      expect(result.errors).toBeUndefined();
      expect(result.data?.viewer).toEqual(
        typeof as === 'string' ? { userId: as, isOperator: false } : { userId: 'ops', isOperator: true },
      );
    });

    it.each(VALID)('answers modelCatalog, every field of every model, for $label', async ({ as }) => {
      const result = await server.graphql(`{ modelCatalog { id provider alias displayName generation capabilities contextWindow } }`, { as });
      expect(result.errors).toBeUndefined();
      expect(result.data?.modelCatalog.map((model: { id: string }) => model.id).sort()).toEqual(
        ['claude-haiku-4-5', 'claude-opus-4-6', 'claude-sonnet-4-6', 'gpt-5-mini', 'gpt-5-nano', 'gpt-5.4'].sort(),
      );
    });

    it("lists the caller's organizations, with memberships only where the caller is an admin (siblings in the list still arrive)", async () => {
      const result = await server.graphql(`{ viewer { organizations { name viewerRole memberships { userId role } } } }`, { as: 'mixed' });
      expect(result.data?.viewer.organizations).toEqual([
        {
          name: 'Hooli',
          viewerRole: 'ADMIN',
          memberships: [
            { userId: 'hooli-member', role: 'MEMBER' },
            { userId: 'mixed', role: 'ADMIN' },
          ],
        },
        { name: 'Umbrella', viewerRole: 'MEMBER', memberships: null },
      ]);
      expect(errorsOf(result)).toEqual([{ path: ['viewer', 'organizations', 1, 'memberships'], code: 'FORBIDDEN' }]);
    });
  });

  describe('Query.organization(id) and the fields of Organization', () => {
    type Field = 'name' | 'viewerRole' | 'parent' | 'subOrganizations' | 'isParent' | 'memberships';
    const FIELDS: Record<Field, { selection: string; phrase: string; nonNull: boolean; value: (role: string | null) => unknown }> = {
      name: { selection: 'name', phrase: "the organization's name", nonNull: true, value: () => 'Acme EU' },
      viewerRole: { selection: 'viewerRole', phrase: 'its own viewerRole there', nonNull: false, value: (role) => role },
      parent: { selection: 'parent { id name }', phrase: 'the parent of this one', nonNull: false, value: () => ({ id: acme.id, name: 'Acme' }) },
      subOrganizations: {
        selection: 'subOrganizations { id name }',
        phrase: 'the sub-organizations of this one',
        nonNull: true,
        value: () => [{ id: sales.id, name: 'Acme EU Sales' }],
      },
      isParent: { selection: 'isParent', phrase: 'whether this one is a parent', nonNull: true, value: () => true },
      memberships: {
        selection: 'memberships { userId role }',
        phrase: 'the memberships of this one',
        nonNull: false,
        value: () => [
          { userId: 'eu-admin', role: 'ADMIN' },
          { userId: 'eu-member', role: 'MEMBER' },
        ],
      },
    };
    const ALL: Field[] = ['name', 'viewerRole', 'parent', 'subOrganizations', 'isParent', 'memberships'];

    /** Who may read which field of Acme EU, per DESIGN.md. */
    const READERS: { label: string; as: As; role: string | null; grants: Field[] }[] = [
      { label: 'an operator', as: OPERATOR, role: null, grants: ALL },
      { label: 'an admin of the organization', as: 'eu-admin', role: 'ADMIN', grants: ALL },
      { label: 'a member of the organization', as: 'eu-member', role: 'MEMBER', grants: ALL.filter((field) => field !== 'memberships') },
      // "the id and name of every ancestor and descendant of O ..., nothing else of theirs".
      { label: 'an admin of the parent organization', as: 'parent-admin', role: null, grants: ['name'] },
      { label: 'a member of a sub-organization', as: 'sales-member', role: null, grants: ['name'] },
    ];
    const cells = READERS.flatMap((reader) =>
      ALL.map((field) => ({
        ...reader,
        field,
        granted: reader.grants.includes(field),
        title: `${reader.grants.includes(field) ? 'grants' : 'denies'} ${reader.label} ${FIELDS[field].phrase}`,
      })),
    );

    async function checkCell({ as, role, field, granted }: (typeof cells)[number]) {
      const { selection, nonNull, value } = FIELDS[field];
      const result = await readOrganization(`id ${selection}`, as);
      if (granted) {
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({ id: acmeEu.id, [field]: value(role) });
      } else {
        expect(errorsOf(result)).toEqual([{ path: ['organization', field], code: 'FORBIDDEN' }]);
        // A non-null field (name, subOrganizations, isParent) cannot be null: its FORBIDDEN nulls
        // the whole organization (GraphQL null propagation). A nullable one is null on its own
        // and its sibling id still arrives.
        expect(result.data?.organization).toEqual(nonNull ? null : { id: acmeEu.id, [field]: null });
      }
    }

    it.each(cells)('$title', checkCell);

    it.each(CALLERS.filter((caller) => !canSee(caller, 'acmeEu')))('hides the organization from $label: null with FORBIDDEN, and nothing of it', async ({ as }) => {
      const result = await readOrganization(ALL_FIELDS, as);
      expect(result.data).toEqual({ organization: null });
      expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);
    });

    it('gives a member the name but not the memberships: memberships null with one FORBIDDEN, name still there', async () => {
      const result = await readOrganization('name memberships { userId }', 'eu-member');
      expect(result.data).toEqual({ organization: { name: 'Acme EU', memberships: null } });
      expect(errorsOf(result)).toEqual([{ path: ['organization', 'memberships'], code: 'FORBIDDEN' }]);
      expect(result.errors?.[0].message).toMatch(/admins/);
    });

    it('gives an admin of the parent organization the name and nothing admin-only of the sub-organization', async () => {
      const result = await readOrganization('id name parent { id } memberships { userId }', 'parent-admin');
      expect(result.data).toEqual({ organization: { id: acmeEu.id, name: 'Acme EU', parent: null, memberships: null } });
      expect(errorsOf(result)).toEqual([
        { path: ['organization', 'memberships'], code: 'FORBIDDEN' },
        { path: ['organization', 'parent'], code: 'FORBIDDEN' },
      ]);
    });

    it.each([
      { label: 'a member of a sub-sub-organization the name of its grandparent', as: 'sales-member' as As, id: () => acme.id, name: 'Acme' },
      { label: 'an admin of the root the name of its grandchild', as: 'parent-admin' as As, id: () => sales.id, name: 'Acme EU Sales' },
      { label: 'a member of the organization the name of its sub-organization', as: 'eu-member' as As, id: () => sales.id, name: 'Acme EU Sales' },
    ])('shows $label, and nothing else of it', async ({ as, id, name }) => {
      const result = await readOrganization('id name parent { id } memberships { userId }', as, id());
      expect(result.data).toEqual({ organization: { id: id(), name, parent: null, memberships: null } });
      expect(errorsOf(result)).toEqual([
        { path: ['organization', 'memberships'], code: 'FORBIDDEN' },
        { path: ['organization', 'parent'], code: 'FORBIDDEN' },
      ]);
    });

    it('hides a cousin organization from a member of a sibling organization', async () => {
      const result = await readOrganization('id name', 'us-member', sales.id);
      expect(result.data).toEqual({ organization: null });
      expect(errorsOf(result)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);
    });

    it('applies the same rules to the id written in upper case', async () => {
      const upper = acmeEu.id.toUpperCase();
      const member = await readOrganization('name memberships { userId }', 'eu-member', upper);
      expect(member.data).toEqual({ organization: { name: 'Acme EU', memberships: null } });
      expect(errorsOf(member)).toEqual([{ path: ['organization', 'memberships'], code: 'FORBIDDEN' }]);

      const admin = await readOrganization('memberships { userId }', 'eu-admin', upper);
      expect(admin.errors).toBeUndefined();
      expect(admin.data?.organization.memberships).toEqual([{ userId: 'eu-admin' }, { userId: 'eu-member' }]);

      const other = await readOrganization('name', 'globex-admin', upper);
      expect(other.data).toEqual({ organization: null });
      expect(errorsOf(other)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);
    });

    it('answers an unknown id with FORBIDDEN to a non-operator (no existence oracle) and NOT_FOUND to an operator', async () => {
      const unknown = '00000000-0000-4000-8000-0000000000aa';
      const member = await readOrganization('name', 'eu-member', unknown);
      expect(member.data).toEqual({ organization: null });
      expect(errorsOf(member)).toEqual([{ path: ['organization'], code: 'FORBIDDEN' }]);

      const operator = await readOrganization('name', OPERATOR, unknown);
      expect(operator.data).toEqual({ organization: null });
      expect(errorsOf(operator)).toEqual([{ path: ['organization'], code: 'NOT_FOUND' }]);
    });

    it('answers a malformed id with BAD_USER_INPUT when signed in, and UNAUTHENTICATED without a token', async () => {
      const signedIn = await readOrganization('name', 'eu-member', 'not-a-uuid');
      expect(errorsOf(signedIn)).toEqual([{ path: ['organization'], code: 'BAD_USER_INPUT' }]);
      const anonymous = await readOrganization('name', undefined, 'not-a-uuid');
      expect(errorsOf(anonymous)).toEqual([{ path: ['organization'], code: 'UNAUTHENTICATED' }]);
    });

    describe('organizations reached through parent and subOrganizations', () => {
      it("gives a member of the organization its parent's id and name, and nothing else of the parent", async () => {
        const result = await readOrganization('parent { id name parent { id } memberships { userId } }', 'eu-member');
        expect(result.data).toEqual({ organization: { parent: { id: acme.id, name: 'Acme', parent: null, memberships: null } } });
        expect(errorsOf(result)).toEqual([
          { path: ['organization', 'parent', 'memberships'], code: 'FORBIDDEN' },
          { path: ['organization', 'parent', 'parent'], code: 'FORBIDDEN' },
        ]);
      });

      it("denies a member of the organization whether its parent is a parent: the non-null isParent nulls the (nullable) parent", async () => {
        const result = await readOrganization('name parent { id isParent }', 'eu-member');
        expect(result.data).toEqual({ organization: { name: 'Acme EU', parent: null } });
        expect(errorsOf(result)).toEqual([{ path: ['organization', 'parent', 'isParent'], code: 'FORBIDDEN' }]);
      });

      it("gives a member of the organization its sub-organizations' id and name, and nothing else of them", async () => {
        const result = await readOrganization('subOrganizations { id name parent { id } memberships { userId } }', 'eu-member');
        expect(result.data).toEqual({ organization: { subOrganizations: [{ id: sales.id, name: 'Acme EU Sales', parent: null, memberships: null }] } });
        expect(errorsOf(result)).toEqual([
          { path: ['organization', 'subOrganizations', 0, 'memberships'], code: 'FORBIDDEN' },
          { path: ['organization', 'subOrganizations', 0, 'parent'], code: 'FORBIDDEN' },
        ]);
      });

      it('gives an operator every field of the parent and of the sub-organizations', async () => {
        const result = await readOrganization(
          'parent { name isParent memberships { userId role } } subOrganizations { name isParent memberships { userId } }',
          OPERATOR,
        );
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization).toEqual({
          parent: { name: 'Acme', isParent: true, memberships: [{ userId: 'parent-admin', role: 'ADMIN' }] },
          subOrganizations: [{ name: 'Acme EU Sales', isParent: false, memberships: [{ userId: 'sales-member' }] }],
        });
      });

      it("gives an admin the memberships' organization back through Membership.organization", async () => {
        const result = await readOrganization('memberships { userId organization { id name } }', 'eu-admin');
        expect(result.errors).toBeUndefined();
        expect(result.data?.organization.memberships).toEqual([
          { userId: 'eu-admin', organization: { id: acmeEu.id, name: 'Acme EU' } },
          { userId: 'eu-member', organization: { id: acmeEu.id, name: 'Acme EU' } },
        ]);
      });
    });
  });

  describe('federation', () => {
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id name memberships { userId } } } }`;
    const ENTITIES_WITHOUT_NAME = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id memberships { userId } } } }`;
    // mixed: admin of Hooli, member of Umbrella, nothing of Globex.
    const representations = () => [hooli, umbrella, globex].map((org) => ({ __typename: 'Organization', id: org.id }));

    it('shows memberships only for the entity the caller admins; the others still arrive as far as allowed', async () => {
      const result = await server.graphql(ENTITIES, { as: 'mixed', variables: { r: representations() } });
      expect(result.data?._entities).toEqual([
        { id: hooli.id, name: 'Hooli', memberships: [{ userId: 'hooli-member' }, { userId: 'mixed' }] },
        { id: umbrella.id, name: 'Umbrella', memberships: null },
        // The unrelated organization's name is FORBIDDEN and non-null: the entity itself is null.
        null,
      ]);
      const errors = errorsOf(result);
      expect(errors.filter((error) => error.path?.[1] === 0)).toEqual([]);
      expect(errors.filter((error) => error.path?.[1] === 1)).toEqual([{ path: ['_entities', 1, 'memberships'], code: 'FORBIDDEN' }]);
      // The third entity's name error is always there; its memberships error too when that rule
      // settled before the name's null propagated (graphql-js drops errors under a nulled object
      // depending on timing), so only "name, maybe memberships" is asserted.
      const third = errors.filter((error) => error.path?.[1] === 2);
      expect(third).toContainEqual({ path: ['_entities', 2, 'name'], code: 'FORBIDDEN' });
      expect(third.every((error) => error.code === 'FORBIDDEN' && ['name', 'memberships'].includes(String(error.path?.[2])))).toBe(true);
    });

    it('without name, every entity arrives with its id, memberships null with FORBIDDEN for each non-admin one', async () => {
      const result = await server.graphql(ENTITIES_WITHOUT_NAME, { as: 'mixed', variables: { r: representations() } });
      expect(result.data?._entities).toEqual([
        { id: hooli.id, memberships: [{ userId: 'hooli-member' }, { userId: 'mixed' }] },
        { id: umbrella.id, memberships: null },
        { id: globex.id, memberships: null },
      ]);
      expect(errorsOf(result)).toEqual([
        { path: ['_entities', 1, 'memberships'], code: 'FORBIDDEN' },
        { path: ['_entities', 2, 'memberships'], code: 'FORBIDDEN' },
      ]);
    });

    it('evaluates each entity on its own, whatever the order of the representations', async () => {
      const reversed = representations().reverse();
      const result = await server.graphql(ENTITIES_WITHOUT_NAME, { as: 'mixed', variables: { r: reversed } });
      expect(result.data?._entities).toEqual([
        { id: globex.id, memberships: null },
        { id: umbrella.id, memberships: null },
        { id: hooli.id, memberships: [{ userId: 'hooli-member' }, { userId: 'mixed' }] },
      ]);
      expect(errorsOf(result)).toEqual([
        { path: ['_entities', 0, 'memberships'], code: 'FORBIDDEN' },
        { path: ['_entities', 1, 'memberships'], code: 'FORBIDDEN' },
      ]);
    });

    it('denies an admin of the parent organization the memberships of the sub-organization fetched by reference', async () => {
      const result = await server.graphql(ENTITIES, {
        as: 'parent-admin',
        variables: { r: [acme, acmeEu].map((org) => ({ __typename: 'Organization', id: org.id })) },
      });
      expect(result.data?._entities).toEqual([
        { id: acme.id, name: 'Acme', memberships: [{ userId: 'parent-admin' }] },
        { id: acmeEu.id, name: 'Acme EU', memberships: null },
      ]);
      expect(errorsOf(result)).toEqual([{ path: ['_entities', 1, 'memberships'], code: 'FORBIDDEN' }]);
    });

    it('gives an operator every entity whole', async () => {
      const result = await server.graphql(ENTITIES, { as: OPERATOR, variables: { r: representations() } });
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toEqual([
        { id: hooli.id, name: 'Hooli', memberships: [{ userId: 'hooli-member' }, { userId: 'mixed' }] },
        { id: umbrella.id, name: 'Umbrella', memberships: [{ userId: 'mixed' }] },
        { id: globex.id, name: 'Globex', memberships: [{ userId: 'globex-admin' }] },
      ]);
    });

    it('resolves Model references for any signed-in caller', async () => {
      const result = await server.graphql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Model { id alias provider } } }`, {
        as: 'stranger',
        variables: { r: [{ __typename: 'Model', id: 'gpt-5-mini' }] },
      });
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toEqual([{ id: 'gpt-5-mini', alias: 'mini', provider: 'OPENAI' }]);
    });

    it.each([
      { label: 'without a token', as: () => undefined as As },
      { label: 'with an invalid token', as: () => ({ raw: headers.wrongSecret }) as As },
    ])('answers _service { sdl } $label', async ({ as }) => {
      const result = await server.graphql(`{ _service { sdl } }`, { as: as() });
      expect(result.errors).toBeUndefined();
      expect(result.data?._service.sdl).toMatch(/type Organization\s+@key\(fields: "id"\)/);
    });
  });

  describe('operator-only mutations', () => {
    interface Target {
      organization: OrganizationEntity;
      child: OrganizationEntity;
      elsewhere: OrganizationEntity;
    }
    const MUTATIONS: {
      name: string;
      query: string;
      input: (target: Target) => Record<string, unknown>;
    }[] = [
      {
        name: 'createOrganization',
        query: `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id name parent { id } } }`,
        input: (t) => ({ name: 'Intruder Inc', parentId: t.organization.id }),
      },
      {
        name: 'moveOrganization',
        query: `mutation($input: MoveOrganizationInput!) { moveOrganization(input: $input) { id parent { id } } }`,
        input: (t) => ({ organizationId: t.child.id, parentId: t.elsewhere.id }),
      },
      {
        name: 'setMembership',
        query: `mutation($input: SetMembershipInput!) { setMembership(input: $input) { userId role organization { id } } }`,
        // A member promoting themselves.
        input: (t) => ({ organizationId: t.organization.id, userId: 'eu-member', role: 'ADMIN' }),
      },
      {
        name: 'removeMembership',
        query: `mutation($input: RemoveMembershipInput!) { removeMembership(input: $input) }`,
        input: (t) => ({ organizationId: t.organization.id, userId: 'eu-admin' }),
      },
    ];

    /** Everything the mutations could change, to compare before and after a denied call. */
    const snapshot = () =>
      snapshotTables(server.dataSource, {
        organizations: { select: 'SELECT id, name, parent_id FROM organization', order: 'id' },
        memberships: { select: 'SELECT organization_id, user_id, role, updated_at FROM membership', order: 'organization_id, user_id' },
      });

    const DENIED: { label: string; as: () => As; code: Code }[] = [
      ...UNAUTHENTICATED.map(({ label, as }) => ({ label, as, code: 'UNAUTHENTICATED' as Code })),
      ...SIGNED_IN.map(({ label, as }) => ({ label, as: () => as, code: 'FORBIDDEN' as Code })),
    ];
    const denials = DENIED.flatMap((caller) => MUTATIONS.map((mutation) => ({ ...caller, mutation, mutationName: mutation.name })));

    it.each(denials)('refuses $mutationName to $label with $code, and changes nothing', async ({ as, code, mutation }) => {
      const target = { organization: acmeEu, child: sales, elsewhere: globex };
      const before = await snapshot();
      const result = await server.graphql(mutation.query, { as: as(), variables: { input: mutation.input(target) } });
      // Every mutation field is non-null: the denial nulls the whole data.
      expect(result.data).toBeNull();
      expect(errorsOf(result)).toEqual([{ path: [mutation.name], code }]);
      expect(await snapshot()).toEqual(before);
    });

    describe('an operator', () => {
      let target: Target;
      beforeAll(async () => {
        const organization = await makeOrganization(server.dataSource, { name: 'Initech' });
        target = {
          organization,
          child: await makeOrganization(server.dataSource, { name: 'Initech Labs', parent: organization }),
          elsewhere: await makeOrganization(server.dataSource, { name: 'Initrode' }),
        };
        await makeMembership(server.dataSource, organization, 'eu-member', OrgRole.MEMBER);
        await makeMembership(server.dataSource, organization, 'eu-admin', OrgRole.ADMIN);
      });
      const run = (name: string) => {
        const mutation = MUTATIONS.find((candidate) => candidate.name === name)!;
        return server.graphql(mutation.query, { as: OPERATOR, variables: { input: mutation.input(target) } });
      };

      it('may createOrganization with the same input that was refused to others', async () => {
        const result = await run('createOrganization');
        expect(result.errors).toBeUndefined();
        expect(result.data?.createOrganization).toMatchObject({ name: 'Intruder Inc', parent: { id: target.organization.id } });
        const rows = await server.dataSource.query(`SELECT parent_id FROM organization WHERE id = $1`, [result.data?.createOrganization.id]);
        expect(rows).toEqual([{ parent_id: target.organization.id }]);
      });

      it('may moveOrganization with the same input that was refused to others', async () => {
        const result = await run('moveOrganization');
        expect(result.errors).toBeUndefined();
        expect(result.data?.moveOrganization).toEqual({ id: target.child.id, parent: { id: target.elsewhere.id } });
        const rows = await server.dataSource.query(`SELECT parent_id FROM organization WHERE id = $1`, [target.child.id]);
        expect(rows).toEqual([{ parent_id: target.elsewhere.id }]);
      });

      it('may setMembership with the same input that was refused to others', async () => {
        const result = await run('setMembership');
        expect(result.errors).toBeUndefined();
        expect(result.data?.setMembership).toEqual({ userId: 'eu-member', role: 'ADMIN', organization: { id: target.organization.id } });
        const rows = await server.dataSource.query(`SELECT role FROM membership WHERE organization_id = $1 AND user_id = 'eu-member'`, [
          target.organization.id,
        ]);
        expect(rows).toEqual([{ role: 'ADMIN' }]);
      });

      it('may removeMembership with the same input that was refused to others', async () => {
        const result = await run('removeMembership');
        expect(result.errors).toBeUndefined();
        expect(result.data?.removeMembership).toBe(true);
        const rows = await server.dataSource.query(`SELECT 1 FROM membership WHERE organization_id = $1 AND user_id = 'eu-admin'`, [
          target.organization.id,
        ]);
        expect(rows).toEqual([]);
      });
    });
  });
});
