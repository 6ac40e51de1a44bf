/**
 * A test server in a process of its own, driven by the benchmark over IPC (startServerProcess in
 * support.ts), so that the RSS and CPU time it reports are the server's alone, not the load
 * generator's.
 */
import 'reflect-metadata';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestServer } from '../support/test-server';
import type { ServerProcessReply, ServerProcessRequest } from './support';

const SAMPLE_EVERY_MS = 25;

async function main(): Promise<void> {
  const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
  const server = await startTestServer(env);
  let peakRss = 0;
  let peakHeapTotal = 0;
  let peakExternal = 0;
  const sample = () => {
    const { rss, heapTotal, external } = process.memoryUsage();
    peakRss = Math.max(peakRss, rss);
    peakHeapTotal = Math.max(peakHeapTotal, heapTotal);
    peakExternal = Math.max(peakExternal, external);
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);
  sampler.unref();
  // How late the event loop ran its timers, and what garbage collection paused, since the last resetPeak.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let gcPauses = { totalMs: 0, maxMs: 0, count: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauses.totalMs += entry.duration;
      gcPauses.maxMs = Math.max(gcPauses.maxMs, entry.duration);
      gcPauses.count += 1;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const stats = () => {
    const { rss, heapUsed } = process.memoryUsage();
    sample();
    const cpu = process.cpuUsage();
    return {
      rss,
      heapUsed,
      peakRss,
      peakHeapTotal,
      peakExternal,
      maxRss: process.resourceUsage().maxRSS * 1024,
      cpuMs: (cpu.user + cpu.system) / 1000,
      statements: server.sqlLogger.statements,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      gc: { ...gcPauses },
    };
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= server.stop().finally(() => {
      clearInterval(sampler);
      loopDelay.disable();
      gcObserver.disconnect();
    });
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
        case 'resetPeak': {
          const before = stats();
          peakRss = peakHeapTotal = peakExternal = 0;
          sample();
          loopDelay.reset();
          gcPauses = { totalMs: 0, maxMs: 0, count: 0 };
          reply({ result: before });
          break;
        }
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
