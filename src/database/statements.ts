import type { EntityManager } from 'typeorm';
import { preparedQuery } from './prepared';

/**
 * Every SQL statement of a repository is a named constant made here: written out whole (no
 * statement is assembled at call time), listed by name in schema/queries.sql (`npm run
 * schema:emit`, test/queries.test.ts keeps it current), and sent the way its definition says.
 */
export interface Statement {
  /** Unique to its text; the name PostgreSQL knows it by when it is prepared. */
  readonly name: string;
  readonly text: string;
  /**
   * Sent as a named prepared statement: PostgreSQL parses it once per connection and may keep one
   * generic plan for it (see database/prepared.ts). Only for hot, fixed statements.
   */
  readonly prepared: boolean;
}

/** What runs statements: the data source, or the entity manager of a transaction. */
export type Runner = Pick<EntityManager, 'query'>;

const registry = new Map<string, Statement>();

/** Defines a statement; its name must be unique to its text. */
export function statement(name: string, text: string, { prepared = false }: { prepared?: boolean } = {}): Statement {
  const known = registry.get(name);
  if (known && known.text !== text) throw new Error(`Two SQL statements are named ${name}`);
  const defined = { name, text, prepared };
  registry.set(name, defined);
  return defined;
}

/** Every statement defined so far, by name. */
export function definedStatements(): Statement[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Runs a statement and answers its rows. TypeORM answers UPDATE and DELETE with `[rows, rowCount]`
 * and every other command with the rows: both come back as the rows.
 */
export async function query<Row>(runner: Runner, statement: Statement, parameters: unknown[]): Promise<Row[]> {
  const result: unknown = statement.prepared ? await preparedQuery(runner, statement, parameters) : await runner.query(statement.text, parameters);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as Row[];
  return result as Row[];
}

/** The statements as schema/queries.sql holds them. */
export function printStatements(statements: readonly Statement[]): string {
  const header = [
    '-- Every SQL statement of the repositories (src/*/*.repository.ts), by name: written by',
    '-- `npm run schema:emit`; test/queries.test.ts fails when the code\'s statements differ from this file.',
    '-- Statements marked "prepared" are sent as named prepared statements.',
  ].join('\n');
  const body = statements.map((s) => `-- ${s.name}${s.prepared ? ' (prepared)' : ''}\n${s.text.trim()};\n`).join('\n');
  return `${header}\n\n${body}`;
}
