import { readFileSync } from 'node:fs';
import path from 'node:path';
import { definedStatements, printStatements } from '../src/database/statements';
import '../src/repositories';

const QUERIES_FILE = path.join(__dirname, '..', 'schema', 'queries.sql');

describe('the SQL statements of the repositories', () => {
  it('match schema/queries.sql (run `npm run schema:emit` after changing a statement)', () => {
    expect(printStatements(definedStatements())).toBe(readFileSync(QUERIES_FILE, 'utf8'));
  });

  it('hold every prepared and every recursive statement', () => {
    const statements = definedStatements();
    const names = statements.map((statement) => statement.name);
    expect(names).toEqual(expect.arrayContaining(['byom_organizations_by_id', 'byom_memberships_of_user', 'byom_walk', 'byom_walk_of_few']));
    expect(statements.filter((statement) => /WITH RECURSIVE/i.test(statement.text)).map((statement) => statement.name)).toEqual(
      expect.arrayContaining(['byom_walk', 'byom_walk_of_few', 'model_settings_inheriting_descendants', 'organization_ancestor_ids']),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});
