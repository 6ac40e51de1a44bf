/**
 * Writes the subgraph's SDL to schema/schema.graphql and every SQL statement of the repositories
 * to schema/queries.sql (`npm run schema:emit`); tests keep both current.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { definedStatements, printStatements } from './database/statements';
import './repositories';
import { printSubgraphSchema } from './schema';

// Compiled to dist/src/schema-emit.js: the schema folder is two levels up.
const SCHEMA_DIR = path.join(__dirname, '..', '..', 'schema');
const SCHEMA_FILE = path.join(SCHEMA_DIR, 'schema.graphql');
const QUERIES_FILE = path.join(SCHEMA_DIR, 'queries.sql');

if (require.main === module) {
  printSubgraphSchema().then(
    (sdl) => {
      writeFileSync(SCHEMA_FILE, sdl);
      writeFileSync(QUERIES_FILE, printStatements(definedStatements()));
      for (const file of [SCHEMA_FILE, QUERIES_FILE]) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
