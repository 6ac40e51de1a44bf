/** Writes the subgraph's SDL to schema/schema.graphql (`npm run schema:emit`); a test keeps it current. */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSubgraphSchema } from './schema';

// Compiled to dist/src/schema-emit.js: the schema folder is two levels up.
const SCHEMA_FILE = path.join(__dirname, "..", "..", "schema", "schema.graphql");

if (require.main === module) {
  printSubgraphSchema().then(
    (sdl) => {
      writeFileSync(SCHEMA_FILE, sdl);
      process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
