import { AsyncResource } from 'node:async_hooks';
import { cpSync, rmSync } from 'node:fs';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/** Without a server: a migrated embedded data directory that every test file copies. */
export const EMBEDDED_TEMPLATE_ENV = 'BYOM_TEST_EMBEDDED_TEMPLATE';
/** Without a server: the run's directory for embedded data directories (workers' and files' copies). */
export const DATABASES_DIR_ENV = 'BYOM_TEST_DATABASES';
/** Where the test environment puts the worker's embedded database for the test file. */
export const WORKER_DATABASE_GLOBAL = '__byomWorkerDatabase';

/**
 * A jest worker's embedded database, kept from one test file to the next (the test environment
 * owns it: test/support/test-environment.ts), so that a run without a database server does not
 * pay for a copy of the migrated template and a PGlite start in every file (about 0.7 s of CPU
 * each). Files run one after another in a worker: a file that asks for a database while the
 * previous one is done gets this one back as new, with every connection ended, the session reset
 * and every table emptied; one whose schema a file changed (a migration reverted, a table added)
 * is replaced by a new copy of the template. A file that asks for a second database while it holds
 * this one gets a copy of its own, as before.
 */
export interface WorkerDatabase {
  /** The database, as new, for the caller alone until it calls `release`; undefined while in use. */
  acquire(): Promise<{ url: string; release(): Promise<void> } | undefined>;
  /** Stops the database and removes its directory: at the end of a run in band (`jest -i`), which no worker process ends. */
  close(): Promise<void>;
}

/** Where the test environment keeps the process's worker database, for the global teardown of a run in band. */
export const WORKER_DATABASE_KEY = Symbol.for('byom.test.workerDatabase');

/** Everything a test could change of the schema, and the migrations applied, in one hash. */
const SCHEMA_FINGERPRINT = `
  SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) AS fingerprint FROM (
    SELECT c.relkind::text || ':' || n.nspname || '.' || c.relname || ':'
           || coalesce(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''), '') AS item
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL SELECT 'index:' || indexrelid::regclass || ':' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)
    UNION ALL SELECT 'constraint:' || conrelid::regclass || ':' || conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
     WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
    UNION ALL SELECT 'enum:' || enumtypid::regtype || ':' || enumlabel || ':' || enumsortorder FROM pg_enum
    UNION ALL SELECT 'function:' || p.oid::regprocedure || ':' || md5(p.prosrc) FROM pg_proc p
     WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
    UNION ALL SELECT 'trigger:' || tgrelid::regclass || ':' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'migration:' || id || ':' || name FROM migrations
  ) items`;

/**
 * Empties every table but the migrations' own, and restarts their sequences, as
 * `TRUNCATE … RESTART IDENTITY CASCADE` would. By DELETE, with triggers and foreign keys off for
 * the transaction (`session_replication_role`), because TRUNCATE gives every table and index a new
 * file, which on PGlite's file system cost 100-200 ms of CPU a file against about 10 ms; the few
 * dead rows a test file leaves are of no weight to the next.
 */
const EMPTY_TABLES = `
  DO $$
  DECLARE item record;
  BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR item IN SELECT schemaname, tablename FROM pg_tables
                 WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'migrations' LOOP
      EXECUTE format('DELETE FROM %I.%I', item.schemaname, item.tablename);
    END LOOP;
    FOR item IN SELECT s.seqrelid::regclass AS sequence, s.seqstart FROM pg_sequence s
                  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
                  JOIN pg_class owner ON owner.oid = d.refobjid
                 WHERE owner.relname <> 'migrations' LOOP
      PERFORM setval(item.sequence, item.seqstart, false);
    END LOOP;
  END $$`;

interface Copy {
  embedded: EmbeddedPostgres;
  fingerprint: string;
}

export function workerDatabase(template: string, directory: string): WorkerDatabase {
  let copy: Copy | undefined;
  let inUse = false;
  // The database outlives the file that first asks for it: what it starts (its server, its
  // sockets, their timers) runs outside that file's async context, which jest's test context
  // would otherwise carry into them and keep, with the whole file, for the worker's life.
  const outside = new AsyncResource('byom-worker-database');

  async function fingerprintOf(embedded: EmbeddedPostgres): Promise<string> {
    const { rows } = await embedded.db.query<{ fingerprint: string }>(SCHEMA_FINGERPRINT);
    return rows[0].fingerprint;
  }

  async function newCopy(): Promise<Copy> {
    rmSync(directory, { recursive: true, force: true });
    cpSync(template, directory, { recursive: true });
    const embedded = await startEmbeddedPostgres({ dataDir: directory });
    return { embedded, fingerprint: await fingerprintOf(embedded) };
  }

  async function discard(old: Copy): Promise<void> {
    await old.embedded.stop().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  }

  /** The database as the template left it: emptied, or a new copy when its schema changed. */
  async function asNew(current: Copy | undefined): Promise<Copy> {
    if (!current) return newCopy();
    await current.embedded.disconnectAll();
    if ((await fingerprintOf(current.embedded)) !== current.fingerprint) {
      await discard(current);
      return newCopy();
    }
    await current.embedded.db.exec(EMPTY_TABLES);
    return current;
  }

  return {
    acquire() {
      return outside.runInAsyncScope(acquire);
    },
    async close() {
      const current = copy;
      copy = undefined;
      if (current) await discard(current);
    },
  };

  async function acquire() {
    if (inUse) return undefined;
    inUse = true;
    const current = copy;
    copy = undefined;
    try {
      copy = await asNew(current);
    } catch (error) {
      inUse = false;
      if (current) await discard(current);
      throw error;
    }
    const { embedded } = copy;
    let released = false;
    return {
      url: embedded.url,
      async release() {
        if (released) return;
        released = true;
        await embedded.disconnectAll();
        inUse = false;
      },
    };
  }
}
