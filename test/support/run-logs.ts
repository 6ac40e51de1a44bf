import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KEY_PATTERN } from './provider-stand-in';

/**
 * Every log line of every test server of a run lands in one directory, so that the end of the run
 * can show that no provider key was ever logged (global teardown scans it).
 */
export const RUN_LOG_DIR_ENV = 'BYOM_TEST_RUN_LOGS';

export function createRunLogDirectory(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'byom-test-logs-'));
}

/** Appends log lines to this process's file of the run; nothing when no run directory is set. */
export function runLogWriter(): (lines: string[]) => void {
  const directory = process.env[RUN_LOG_DIR_ENV];
  if (!directory) return () => undefined;
  const file = path.join(directory, `${process.pid}.jsonl`);
  return (lines) => appendFileSync(file, lines.map((line) => `${line}\n`).join(''));
}

/** Where key-shaped strings appear in the run's logs, as `file:line` (never the key itself). */
export function findKeysInRunLogs(directory: string): { lines: number; leaks: string[] } {
  let lines = 0;
  const leaks: string[] = [];
  for (const file of readdirSync(directory)) {
    readFileSync(path.join(directory, file), 'utf8')
      .split('\n')
      .forEach((line, index) => {
        if (line) lines += 1;
        if (KEY_PATTERN.test(line)) leaks.push(`${file}:${index + 1}`);
      });
  }
  return { lines, leaks };
}

export function removeRunLogDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}
