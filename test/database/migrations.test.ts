import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/database/data-source';
import { migrate } from '../../src/database/database';
import { randomBytes } from 'node:crypto';
import { startBuiltServer } from '../support/built-server';
import { createTestDatabase, databaseUrl, dropDatabase, serverUrl, type TestDatabase, withClient } from '../support/database';

/** The migrations in the order they apply: by the timestamp that ends their names. */
const byTimestamp = (dataSource: DataSource) => [...dataSource.migrations].sort((a, b) => Number(a.name?.slice(-13)) - Number(b.name?.slice(-13)));

describe('migrations', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = createDataSource({ url: database.url, poolSize: database.poolSize });
    await dataSource.initialize();
    await migrate(dataSource, { lock: false });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('build exactly the schema the entities describe (generate a migration after changing an entity)', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('leave nothing pending, and applying them again changes nothing', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    await expect(migrate(dataSource, { lock: false })).resolves.toEqual([]);
    const applied: { name: string }[] = await dataSource.query('SELECT name FROM migrations ORDER BY id');
    // Migrations apply in the order of their timestamps, whatever order the files were found in.
    expect(applied.map((row) => row.name)).toEqual(byTimestamp(dataSource).map((migration) => migration.name));
  });
});

describe('an upgrade', () => {
  it('applies the migrations a database lacks when the service starts, and names them in one log line', async () => {
    const database = await createTestDatabase();
    const dataSource = createDataSource({ url: database.url, poolSize: database.poolSize });
    try {
      await dataSource.initialize();
      // The database as the release before the last migration left it.
      await dataSource.undoLastMigration({ transaction: 'each' });
      const latest = byTimestamp(dataSource).at(-1) as { name?: string };
      expect(await dataSource.showMigrations()).toBe(true);
      await dataSource.destroy();

      const service = await startBuiltServer(database.url, {}, { poolSize: database.poolSize });
      try {
        const lines = service.logs().filter((line) => String(line.msg).includes('migration'));
        expect(lines.map((line) => [line.msg, line.migrations])).toEqual([['database: 1 migration applied', [latest.name]]]);
      } finally {
        await service.stop();
      }
      await dataSource.initialize();
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      await database.drop();
    }
  });
});

const onServer = serverUrl();
(onServer ? describe : describe.skip)('migrations on a shared server', () => {
  it('are applied once when two instances start at the same time', async () => {
    const server = onServer as string;
    const name = `byom_test_empty_${randomBytes(4).toString('hex')}`;
    await withClient(server, (client) => client.query(`CREATE DATABASE ${name}`));
    const instances = [1, 2].map(() => createDataSource({ url: databaseUrl(server, name), poolSize: 3 }));
    try {
      await Promise.all(instances.map((instance) => instance.initialize()));
      const answered = await Promise.all(instances.map((instance) => migrate(instance, { lock: true })));
      const applied: { name: string }[] = await instances[0].query('SELECT name FROM migrations');
      expect(applied).toHaveLength(instances[0].migrations.length);
      // Each instance answers what it applied: together, every migration once.
      expect(answered.flat().sort()).toEqual(applied.map((row) => row.name).sort());
    } finally {
      await Promise.all(instances.map((instance) => instance.destroy()));
      await dropDatabase(server, name);
    }
  });
});
