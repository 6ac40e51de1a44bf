/**
 * `npm run keys:reencrypt`: re-encrypts every stored provider key under the first key of
 * BYOM_ENCRYPTION_KEYS, so that older keys can leave the ring. Batches are short transactions;
 * rows already under the first key are not touched, so it is safe to stop and run again.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { runCommand } from '../cli';
import { parseConfig } from '../config';
import { createRepositories } from '../repositories';
import { runKeyCommand } from './key-command';
import { KeyVault, KeyVaultError } from './key-vault';

export interface ReencryptionReport {
  /** Keys now under the first key of the ring that were not before. */
  moved: number;
  /** Rows that could not be decrypted (their key left the ring, or they were tampered with). */
  failed: { connectionId: string; reason: string }[];
  batches: number;
}

export const REENCRYPT_BATCH_SIZE = 500;

export async function reencryptStoredKeys(
  dataSource: DataSource,
  vault: KeyVault,
  { batchSize = REENCRYPT_BATCH_SIZE }: { batchSize?: number } = {},
): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { moved: 0, failed: [], batches: 0 };
  // Walks the table once by id, so rows that fail to decrypt are reported, not retried forever.
  let after = '00000000-0000-0000-0000-000000000000';
  const repos = createRepositories(dataSource);
  for (;;) {
    const { done, last } = await repos.transaction(async (tx) => {
      const rows = await tx.connections.lockStaleKeys(after, vault.currentPrefix, batchSize);
      if (rows.length === 0) return { done: true, last: after };
      const ids: string[] = [];
      const ciphertexts: string[] = [];
      for (const row of rows) {
        const binding = { organizationId: row.organization_id, connectionId: row.id, provider: row.provider };
        try {
          ciphertexts.push(vault.encrypt(vault.decrypt(row.encrypted_key, binding), binding));
          ids.push(row.id);
        } catch (error) {
          if (!(error instanceof KeyVaultError)) throw error;
          report.failed.push({ connectionId: row.id, reason: error.message });
        }
      }
      if (ids.length > 0) await tx.connections.replaceKeys(ids, ciphertexts);
      report.moved += ids.length;
      report.batches += 1;
      return { done: rows.length < batchSize, last: rows[rows.length - 1].id };
    }, 'READ COMMITTED');
    after = last;
    if (done) return report;
  }
}

async function main(): Promise<number> {
  const parsed = parseConfig(process.env);
  return runKeyCommand(parsed, 'keys:reencrypt', async ({ vault, database }) => {
    const started = performance.now();
    const report = await reencryptStoredKeys(database.dataSource, vault);
    const elapsed = Math.round(performance.now() - started);
    process.stdout.write(
      `Re-encrypted ${report.moved} stored key(s) under key '${vault.currentKeyId}' in ${report.batches} batch(es), ${elapsed} ms.\n`,
    );
    for (const failure of report.failed) {
      process.stdout.write(`Could not re-encrypt connection ${failure.connectionId}: ${failure.reason}\n`);
    }
    return report.failed.length === 0 ? 0 : 1;
  });
}

if (require.main === module) runCommand(main);
