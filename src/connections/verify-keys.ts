/**
 * `npm run keys:verify`, for a scheduled job: decrypts every stored provider key and names, by
 * connection id, any that no key of BYOM_ENCRYPTION_KEYS opens (exit status 1). With `--probe`
 * it also asks each provider whether it still accepts the key (at most `--concurrency` at once,
 * `--timeout-ms` each) and marks the connection VERIFIED or INVALID; a provider that does not
 * answer leaves the status as it was. Prints counts, never a key.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Provider } from '../catalog/catalog';
import { runCommand } from '../cli';
import { parseConfig } from '../config';
import { DomainError, ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { createRepositories } from '../repositories';
import type { StoredKey } from './connection.repository';
import { runKeyCommand } from './key-command';
import { KeyVault, KeyVaultError } from './key-vault';
import { ProviderKeyChecker } from './provider-check';
import { ConnectionStatus } from './provider-connection.entity';

export interface KeyVerificationReport {
  /** Stored keys read. */
  total: number;
  /** Connections whose key no key of the ring opens. */
  unreadable: { connectionId: string; reason: string }[];
  /** With a probe: what the providers said of the readable keys. */
  probed?: { verified: number; invalid: number; unreachable: number; changed: number };
}

export interface KeyProbe {
  checker: Pick<ProviderKeyChecker, 'verify'>;
  /** Keys checked at once, at most. */
  concurrency: number;
  timeoutMs: number;
  log: Logger;
}

const BATCH_SIZE = 500;

/** Decrypts (and with `probe`, checks with its provider) every stored key, in batches by id. */
export async function verifyStoredKeys(dataSource: DataSource, vault: KeyVault, probe?: KeyProbe): Promise<KeyVerificationReport> {
  const repos = createRepositories(dataSource);
  const report: KeyVerificationReport = { total: 0, unreadable: [], ...(probe ? { probed: { verified: 0, invalid: 0, unreachable: 0, changed: 0 } } : {}) };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const rows = await repos.connections.storedKeys(after, BATCH_SIZE);
    if (rows.length === 0) return report;
    after = rows[rows.length - 1].id;
    report.total += rows.length;
    const readable: { row: StoredKey & { status: ConnectionStatus }; apiKey: string }[] = [];
    for (const row of rows) {
      try {
        readable.push({ row, apiKey: vault.decrypt(row.encrypted_key, { organizationId: row.organization_id, connectionId: row.id, provider: row.provider }) });
      } catch (error) {
        if (!(error instanceof KeyVaultError)) throw error;
        report.unreadable.push({ connectionId: row.id, reason: error.message });
      }
    }
    if (probe && report.probed) {
      const probed = report.probed;
      await eachAtMost(probe.concurrency, readable, async ({ row, apiKey }) => {
        const status = await statusOf(probe, row.provider, apiKey);
        if (status === null) {
          probed.unreachable += 1;
          return;
        }
        probed[status === ConnectionStatus.VERIFIED ? 'verified' : 'invalid'] += 1;
        const recorded = await repos.connections.recordKeyCheck(row.id, row.encrypted_key, status);
        if (recorded && recorded.status !== row.status) probed.changed += 1;
      });
    }
    if (rows.length < BATCH_SIZE) return report;
  }
}

/** What the provider says of a key; null when it did not answer. */
async function statusOf(probe: KeyProbe, provider: Provider, apiKey: string): Promise<ConnectionStatus | null> {
  try {
    await probe.checker.verify(probe.log, provider, apiKey, probe.timeoutMs);
    return ConnectionStatus.VERIFIED;
  } catch (error) {
    if (error instanceof DomainError && error.code === ErrorCode.INVALID_API_KEY) return ConnectionStatus.INVALID;
    if (error instanceof DomainError && error.code === ErrorCode.PROVIDER_UNREACHABLE) return null;
    throw error;
  }
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** The command's options: `--probe`, `--concurrency=N` (1-64, 4), `--timeout-ms=N` (100-60000, PROVIDER_CHECK_TIMEOUT_MS). */
export function parseVerifyArguments(args: readonly string[], defaultTimeoutMs: number): { probe: boolean; concurrency: number; timeoutMs: number } {
  const options = { probe: false, concurrency: 4, timeoutMs: defaultTimeoutMs };
  for (const arg of args) {
    const [name, value] = arg.split('=', 2);
    const number = (min: number, max: number) => {
      const parsed = /^\d+$/.test(value ?? '') ? Number(value) : Number.NaN;
      if (!(parsed >= min && parsed <= max)) throw new Error(`${name} must be a whole number between ${min} and ${max}`);
      return parsed;
    };
    if (arg === '--probe') options.probe = true;
    else if (name === '--concurrency') options.concurrency = number(1, 64);
    else if (name === '--timeout-ms') options.timeoutMs = number(100, 60_000);
    else throw new Error(`Unknown argument ${arg.slice(0, 40)}; use --probe, --concurrency=N, --timeout-ms=N`);
  }
  return options;
}

async function main(): Promise<number> {
  const parsed = parseConfig(process.env);
  let options;
  try {
    options = parseVerifyArguments(process.argv.slice(2), parsed.providers.checkTimeoutMs);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  return runKeyCommand(parsed, 'keys:verify', async ({ config, logger, vault, database }) => {
    const started = performance.now();
    const probe = options.probe
      ? { checker: new ProviderKeyChecker(config.providers, options.timeoutMs), concurrency: options.concurrency, timeoutMs: options.timeoutMs, log: logger }
      : undefined;
    const report = await verifyStoredKeys(database.dataSource, vault, probe);
    const elapsed = Math.round(performance.now() - started);
    process.stdout.write(`Read ${report.total} stored key(s): ${report.total - report.unreadable.length} readable, ${report.unreadable.length} unreadable, ${elapsed} ms.\n`);
    for (const failure of report.unreadable) {
      process.stdout.write(`No key of the ring opens connection ${failure.connectionId}: ${failure.reason}\n`);
    }
    if (report.probed) {
      const { verified, invalid, unreachable, changed } = report.probed;
      process.stdout.write(`Probed: ${verified} verified, ${invalid} invalid, ${unreachable} unreachable (status unchanged), ${changed} status change(s).\n`);
    }
    return report.unreadable.length === 0 ? 0 : 1;
  });
}

if (require.main === module) runCommand(main);
