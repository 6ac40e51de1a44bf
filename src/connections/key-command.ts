import pino from 'pino';
import { type Config, withDevSecrets } from '../config';
import { DataDirLockedError, claimDataDir } from '../database/data-dir-lock';
import { type Database, openDatabase } from '../database/database';
import { createLogger, type Logger } from '../logger';
import { KeyVault } from './key-vault';

export interface KeyCommand {
  config: Config;
  /** To stderr: a command's figures go to stdout. */
  logger: Logger;
  vault: KeyVault;
  database: Database;
}

/**
 * What `keys:reencrypt` and `keys:verify` do before and after their work: take the data
 * directory's lock first (a held one: exit status 1, nothing touched), open the database with the
 * key ring, then close it and release the lock whatever `work` answered.
 */
export async function runKeyCommand(parsed: Config, purpose: string, work: (command: KeyCommand) => Promise<number>): Promise<number> {
  let lock;
  try {
    lock = claimDataDir(parsed, purpose);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    process.stderr.write(`Cannot open the embedded database: ${error.message}\n`);
    return 1;
  }
  try {
    const { config, notices } = withDevSecrets(parsed);
    const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { destination: pino.destination(2) });
    for (const notice of notices) logger.warn(notice);
    const vault = new KeyVault(config.encryptionKeys);
    const database = await openDatabase(config, logger);
    try {
      return await work({ config, logger, vault, database });
    } finally {
      await database.close();
    }
  } finally {
    lock?.release();
  }
}
