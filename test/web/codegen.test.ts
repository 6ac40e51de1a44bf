import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The page's typed documents (web/src/gql/) are what graphql-codegen's client preset generates from
 * schema/schema.graphql and the page's operations: a change to either without `npm run
 * web:codegen` fails here (the generation also validates every operation against the schema).
 */
const ROOT = path.join(__dirname, '../..');

describe("the settings page's generated documents", () => {
  it('match schema/schema.graphql and the operations of web/src (run `npm run web:codegen` after changing either)', () => {
    let output = '';
    try {
      output = execFileSync(process.execPath, [path.join(ROOT, 'scripts/codegen.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`codegen --check failed:\n${stderr ?? ''}${stdout ?? ''}`);
    }
    expect(output).toBe('');
  });
});
