import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { initializeDataDir } from './new-data-dir';

export { EMBEDDED_POOL_SIZE } from './embedded-thread';

export interface EmbeddedPostgres {
  /** A connection string for the `pg` driver, on a loopback port. */
  url: string;
  /** The database itself, for what the wire protocol cannot do (copying the data directory). */
  db: PGlite;
  /**
   * Ends every client's connection, as `pg_terminate_backend` would, and resolves once the session
   * is reset (its transaction rolled back, its session state discarded); new connections are served.
   */
  disconnectAll(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the data lives; undefined keeps it in memory. */
  dataDir?: string;
  /** An in-memory database starts from this copy of a data directory (`db.dumpDataDir()`). */
  loadDataDir?: Blob;
  /**
   * A connection that leaves the session idle inside a transaction this long is ended, as
   * PostgreSQL's `idle_in_transaction_session_timeout` ends it (FATAL 25P03), and its transaction
   * rolled back. Unset: never. (PGlite ignores startup parameters, and the setting itself wedges
   * its session once it fires, so the server enforces it here.)
   */
  idleInTransactionTimeoutMs?: number;
}

/**
 * PGlite's own defaults (128 MB of shared buffers) size it for a server; the embedded database
 * serves one developer.
 */
const POSTGRESQL_CONF = ['shared_buffers = 16MB', 'temp_buffers = 2MB'];

/**
 * Starts PGlite in this process and serves it over the PostgreSQL wire protocol on 127.0.0.1, so
 * the same `pg` driver and migrations serve the embedded and the real database.
 *
 * PGlite is a single database session, while `pg` believes that each connection is a session of
 * its own. So one connection at a time is given the session (others wait their turn, as a pool
 * of `EMBEDDED_POOL_SIZE` never makes them), and before each connection gets it the session is
 * made new: an open transaction of the last connection is rolled back, and its prepared
 * statements, `SET`s, advisory locks, cursors and temporary tables are discarded. A connection
 * that the pool closed after idling, or a client that went away in a transaction, then leaves
 * nothing behind that the next connection does not know of.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const db = await openPGlite(options);
  const sessions = new SessionGate(db, options.idleInTransactionTimeoutMs);
  const server = net.createServer((socket) => sessions.admit(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    db,
    disconnectAll: () => sessions.disconnectAll(),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        sessions.closeAll();
      });
      await sessions.idle();
      await db.close();
    },
  };
}

async function openPGlite({ dataDir, loadDataDir }: EmbeddedPostgresOptions): Promise<PGlite> {
  const settings = { postgresqlconf: POSTGRESQL_CONF };
  if (!dataDir) return PGlite.create({ ...settings, loadDataDir });
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initializeDataDir(dataDir);
  return PGlite.create({ ...settings, dataDir });
}

/** Sync: ends whatever extended-protocol exchange a departed client left half done. */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** Hands the single session to one socket at a time, resetting it in between. */
class SessionGate {
  private readonly waiting: Socket[] = [];
  private current: Socket | undefined;
  private turn: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(
    private readonly db: PGlite,
    private readonly idleInTransactionTimeoutMs: number | undefined,
  ) {}

  admit(socket: Socket): void {
    // Nothing it sends is read until it has the session.
    socket.pause();
    socket.once('close', () => {
      const index = this.waiting.indexOf(socket);
      if (index >= 0) this.waiting.splice(index, 1);
    });
    this.waiting.push(socket);
    this.next();
  }

  closeAll(): void {
    this.closing = true;
    this.destroySockets();
  }

  /** Ends every connection; resolves once the last one's session is reset. */
  async disconnectAll(): Promise<void> {
    const current = this.current;
    this.destroySockets();
    if (current && !current.closed) await once(current, 'close');
    // Releasing a socket chains its reset onto the turn: wait until no more is chained.
    let turn: Promise<void>;
    do {
      turn = this.turn;
      await turn;
      await new Promise(setImmediate);
    } while (turn !== this.turn);
  }

  private destroySockets(): void {
    for (const socket of [...this.waiting, ...(this.current ? [this.current] : [])]) socket.destroy();
    this.waiting.length = 0;
  }

  /** Resolves once no session work (a reset, a statement) is running. */
  idle(): Promise<void> {
    return this.turn;
  }

  private next(): void {
    if (this.current || this.waiting.length === 0) return;
    const socket = this.waiting.shift() as Socket;
    this.current = socket;
    this.turn = this.turn
      .then(() => this.reset())
      .then(async () => {
        if (socket.destroyed) return this.release(socket);
        const queue = new SessionQueue(this.db, socket, this.idleInTransactionTimeoutMs);
        const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true });
        handler.addEventListener('close', () => this.release(socket));
        handler.addEventListener('error', () => this.release(socket));
        await handler.attach(socket);
        socket.resume();
      })
      .catch(() => {
        socket.destroy();
        this.release(socket);
      });
  }

  private release(socket: Socket): void {
    if (this.current !== socket) return;
    this.current = undefined;
    // A transaction the client left open ends now, not when the next client comes. At shutdown
    // nothing more runs on a database that is closing.
    if (!this.closing) this.turn = this.turn.then(() => this.reset()).catch(() => undefined);
    this.next();
  }

  private async reset(): Promise<void> {
    if (this.closing || this.db.closed) return;
    await this.db.runExclusive(async () => {
      await this.db.execProtocolRaw(SYNC);
    });
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    await this.db.exec('DISCARD ALL');
  }
}

/** Message types after which the session waits for the client's next command: Query and Sync. */
const QUERY = 0x51;
const SYNC_TYPE = 0x53;

/** An ErrorResponse as PostgreSQL sends it before closing a connection idle in a transaction too long. */
function idleInTransactionError(): Buffer {
  const fields = [
    ['S', 'FATAL'],
    ['V', 'FATAL'],
    ['C', '25P03'],
    ['M', 'terminating connection due to idle-in-transaction timeout'],
  ];
  const body = Buffer.concat([...fields.map(([type, value]) => Buffer.from(`${type}${value}\0`, 'utf8')), Buffer.from([0])]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/**
 * What PGLiteSocketHandler calls to run a message. With one connection at a time there is no
 * queue to keep: a message runs as soon as PGlite is free. It also ends a connection that leaves
 * the session idle in a transaction past the timeout.
 */
class SessionQueue {
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly socket: Socket,
    private readonly idleInTransactionTimeoutMs: number | undefined,
  ) {
    socket.once('close', () => this.stopIdleTimer());
  }

  async enqueue(_handler: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    this.stopIdleTimer();
    try {
      return await this.run(message, onData);
    } finally {
      if ((message[0] === QUERY || message[0] === SYNC_TYPE) && this.db.isInTransaction()) this.startIdleTimer();
    }
  }

  private startIdleTimer(): void {
    if (!this.idleInTransactionTimeoutMs || this.socket.destroyed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.socket.destroyed || !this.db.isInTransaction()) return;
      // The gate rolls the transaction back once the socket is gone (release, then reset).
      this.socket.end(idleInTransactionError());
      setTimeout(() => this.socket.destroy(), 100).unref();
    }, this.idleInTransactionTimeoutMs);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private async run(message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    let bytes = 0;
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(message, {
        onRawData: (data) => {
          bytes += data.length;
          onData(data);
        },
      }),
    );
    return bytes;
  }

  clearQueueForHandler(): void {}

  async clearTransactionIfNeeded(): Promise<void> {}
}

