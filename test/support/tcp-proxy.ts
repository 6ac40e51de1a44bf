import net, { type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between the service and PostgreSQL, to make database faults on demand:
 *
 * - `cut()`: every open connection is reset at once (as killing every backend); new ones pass.
 * - `down()`: every connection is reset and new ones are refused (the server is gone).
 * - `blackhole()`: nothing is forwarded any more, either way, on open connections or new ones
 *   (accepted, never answered): a frozen server or a partitioned network.
 * - `slow(ms)`: every chunk, either way, is delayed by `ms` (in order).
 * - `restore()`: back to passing everything; held data flows on.
 */
export interface TcpProxy {
  /** `url` (a postgres:// URL of the proxied server) with the proxy's host and port instead. */
  url(url: string): string;
  port: number;
  /** Connections the proxy holds open now. */
  readonly connections: number;
  cut(): void;
  down(): Promise<void>;
  blackhole(): void;
  slow(ms: number): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

type Mode = { kind: 'pass' } | { kind: 'blackhole' } | { kind: 'slow'; ms: number } | { kind: 'down' };

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** Chunks held while black-holed, per direction, forwarded on restore. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** The last delayed write per direction, so that slow chunks keep their order. */
  queue: { toUpstream: Promise<void>; toClient: Promise<void> };
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: Mode = { kind: 'pass' };
  const pairs = new Set<Pair>();

  const forward = (pair: Pair, direction: 'toUpstream' | 'toClient', chunk: Buffer) => {
    const destination = direction === 'toUpstream' ? pair.upstream : pair.client;
    if (mode.kind === 'blackhole' || !destination) {
      pair.held[direction].push(chunk);
      return;
    }
    // Through one queue per direction, so that chunks delayed by slow() keep their order.
    const ms = mode.kind === 'slow' ? mode.ms : 0;
    pair.queue[direction] = pair.queue[direction]
      .then(() => (ms ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : undefined))
      .then(() => {
        if (!destination.destroyed) destination.write(chunk);
      });
  };

  const connectUpstream = (pair: Pair) => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('data', (chunk) => forward(pair, 'toClient', chunk));
    upstream.on('connect', () => flush(pair));
    upstream.on('error', () => end(pair));
    upstream.on('close', () => end(pair));
  };

  const flush = (pair: Pair) => {
    if (!pair.upstream || pair.upstream.connecting || mode.kind === 'blackhole') return;
    for (const chunk of pair.held.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.held.toClient.splice(0)) pair.client.write(chunk);
  };

  const end = (pair: Pair) => {
    if (!pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const reset = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.upstream?.destroy();
  };

  const server = net.createServer((client) => {
    if (mode.kind === 'down') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = {
      client,
      upstream: undefined,
      held: { toUpstream: [], toClient: [] },
      queue: { toUpstream: Promise.resolve(), toClient: Promise.resolve() },
    };
    pairs.add(pair);
    client.on('data', (chunk) => forward(pair, 'toUpstream', chunk));
    client.on('error', () => end(pair));
    client.on('close', () => end(pair));
    // Black-holed: accepted, and nothing more until restored.
    if (mode.kind !== 'blackhole') connectUpstream(pair);
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;

  return {
    port,
    url(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    get connections() {
      return pairs.size;
    },
    cut() {
      for (const pair of [...pairs]) reset(pair);
    },
    async down() {
      mode = { kind: 'down' };
      for (const pair of [...pairs]) reset(pair);
      // Refused, not accepted and reset: the listener goes until restored.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    blackhole() {
      mode = { kind: 'blackhole' };
    },
    slow(ms) {
      mode = { kind: 'slow', ms };
    },
    async restore() {
      const wasDown = mode.kind === 'down';
      mode = { kind: 'pass' };
      if (wasDown) await listen(port);
      for (const pair of pairs) {
        if (!pair.upstream) connectUpstream(pair);
        else flush(pair);
      }
    },
    async close() {
      for (const pair of [...pairs]) end(pair);
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
