import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Scratch directories of a test file (or of the describe block that calls this): each call of the
 * function returned makes a new one under the system's temporary directory, named `<prefix>-…`,
 * and all of them are removed after the block's tests, by an afterAll hook registered here (after
 * the hooks registered before this call, which may still use them).
 */
export function scratchDirectories(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  return () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    made.push(directory);
    return directory;
  };
}
