/** The thread of startEmbeddedServer (embedded-thread.ts): the embedded PostgreSQL and its server. */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerReport } from './embedded-thread';
import { type EmbeddedPostgresOptions, startEmbeddedPostgres } from './embedded-postgres';

const port = parentPort as NonNullable<typeof parentPort>;

startEmbeddedPostgres(workerData as EmbeddedPostgresOptions).then(
  (embedded) => {
    port.postMessage({ url: embedded.url } satisfies WorkerReport);
    port.once('message', () => {
      // 'stop': the database closes, then the thread ends (the port no longer holds it).
      void embedded.stop().finally(() => port.close());
    });
  },
  (error: Error) => {
    port.postMessage({ error: { message: error.message, stack: error.stack } } satisfies WorkerReport);
    port.close();
  },
);
