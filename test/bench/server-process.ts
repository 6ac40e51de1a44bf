/**
 * A test server in a process of its own, driven by the benchmark over IPC (startServerProcess in
 * support.ts), so that the RSS and CPU time it reports are the server's alone, not the load
 * generator's.
 */
import 'reflect-metadata';
import { startTestServer } from '../support/test-server';
import type { ServerProcessReply, ServerProcessRequest } from './support';

const SAMPLE_EVERY_MS = 25;

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
  const server = await startTestServer(env);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, SAMPLE_EVERY_MS);
  sampler.unref();

  const stats = () => {
    const { rss, heapUsed } = process.memoryUsage();
    peakRss = Math.max(peakRss, rss);
    const cpu = process.cpuUsage();
    return { rss, heapUsed, peakRss, maxRss: process.resourceUsage().maxRSS * 1024, cpuMs: (cpu.user + cpu.system) / 1000, statements: server.sqlLogger.statements };
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= server.stop().finally(() => clearInterval(sampler));
    return stopping;
  };
  // The benchmark died or let go: never outlive it, nor leave its database behind.
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(0));
  });

  process.on('message', async (message: ServerProcessRequest) => {
    const reply = (answer: Omit<ServerProcessReply, 'id'>) => process.send?.({ id: message.id, ...answer });
    try {
      switch (message.op) {
        case 'stats':
          reply({ result: stats() });
          break;
        case 'resetPeak':
          peakRss = process.memoryUsage().rss;
          reply({ result: stats() });
          break;
        case 'stop':
          await stop();
          reply({ result: null });
          break;
      }
    } catch (error) {
      reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });

  const options = server.dataSource.options as { url?: string };
  process.send?.({ id: 0, result: { url: server.url, databaseUrl: options.url, pid: process.pid } });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
