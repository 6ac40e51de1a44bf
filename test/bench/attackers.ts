/**
 * The `attack` bench's attackers (attack.bench.ts): anonymous clients that keep sending oversized
 * bodies, and slow sockets that send their headers a few bytes at a time. Loopback only, a bounded
 * number of sockets, each client pacing itself; run in a process of their own
 * (attacker-process.ts) so that their CPU is not the load generator's.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

/**
 * `declared`: a Content-Length of 1–14 MB, the body streamed after the headers; `chunked`: the
 * same bodies with no length (Transfer-Encoding: chunked); `gzip`: a small gzip body (a few KB,
 * declared) that inflates to 1–14 MB.
 */
export type BodyKind = 'declared' | 'chunked' | 'gzip';
export const BODY_KINDS: readonly BodyKind[] = ['declared', 'chunked', 'gzip'];

export interface AttackPlan {
  host: string;
  port: number;
  path: string;
  /** Clients sending oversized bodies, each one request at a time on a connection of its own. */
  bodyClients: number;
  /** The kinds of body, taken in turn. */
  kinds: BodyKind[];
  /** Body sizes (declared, streamed or inflated), whole MB from min to max, taken in turn. */
  minBodyMb: number;
  maxBodyMb: number;
  /** A streamed body is written `chunkBytes` at a time, one chunk every `chunkEveryMs` per client. */
  chunkBytes: number;
  chunkEveryMs: number;
  /** What a client waits after an answer before its next request. */
  pauseMs: number;
  /** A body request with no answer after this is given up (counted as unanswered). */
  answerTimeoutMs: number;
  /** Sockets sending partial headers, reconnected when the server closes them. */
  slowSockets: number;
  /** Each slow socket sends `slowFragmentBytes` more of its headers this often. */
  slowEveryMs: number;
  slowFragmentBytes: number;
}

export interface KindStats {
  /** Requests whose answer or end came before the attack stopped. */
  requests: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** The connection ended (reset, closed) before any answer. */
  endedUnanswered: number;
  /** Given up after answerTimeoutMs. */
  timedOut: number;
  errors: Record<string, number>;
  /** Body bytes written to the socket (accepted by the kernel). */
  bytesSent: number;
  /** From connecting to the status line of the answer, ms, sorted. */
  answerMs: number[];
  /** Of that, the TCP connection's own time (net.connect to 'connect'), ms, sorted. */
  connectMs: number[];
}

export interface SlowStats {
  /** Connections made, reconnections included. */
  opened: number;
  /** Closed by the server (not by the attacker stopping). */
  closedByServer: number;
  /** Of those, the ones the server answered 408 first. */
  answered408: number;
  /** Answers other than 408 (the server must never answer partial headers). */
  otherAnswers: Record<string, number>;
  errors: Record<string, number>;
  /** The most open at once; never above plan.slowSockets. */
  maxOpen: number;
  openAtStop: number;
  /** How long each socket the server closed had lived, ms, sorted. */
  lifetimesMs: number[];
}

export interface AttackStats {
  seconds: number;
  /** CPU time (user + system) the attackers used, ms. */
  cpuMs: number;
  body: Record<BodyKind, KindStats>;
  slow: SlowStats;
  /** How late the attackers' own event loop ran, p99 and max, ms: whether their figures are their own. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const MB = 1024 * 1024;
const BODY_PREFIX = Buffer.from('{"query":"{ __typename }","variables":{"x":"');
const CRLF = Buffer.from('\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** The soft limit on open files of this process (/proc/self/limits). */
export function openFileLimit(pid: number | 'self' = 'self'): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((row) => row.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
}

const count = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Streaming {
  socket: net.Socket;
  kind: 'declared' | 'chunked';
  left: number;
  stats: KindStats;
}

interface Slow {
  socket: net.Socket;
  openedAt: number;
  nextAt: number;
  sent: number;
}

export class Attack {
  private stopping = false;
  private startedAt = 0;
  private cpuAtStart = process.cpuUsage();
  private readonly gzipBodies = new Map<number, Buffer>();
  private readonly chunk: Buffer;
  private readonly chunkFrame: Buffer;
  private readonly streaming = new Set<Streaming>();
  private readonly bodySockets = new Set<net.Socket>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private readonly slow = new Set<Slow>();
  private readonly clients: Promise<void>[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pendingReconnects = new Set<NodeJS.Timeout>();
  private readonly headerScript: Buffer;
  private readonly stats: AttackStats;

  constructor(private readonly plan: AttackPlan) {
    this.chunk = Buffer.alloc(plan.chunkBytes, 'a');
    this.chunkFrame = Buffer.concat([Buffer.from(`${plan.chunkBytes.toString(16)}\r\n`), this.chunk, CRLF]);
    const emptyKind = (): KindStats => ({ requests: 0, statuses: {}, endedUnanswered: 0, timedOut: 0, errors: {}, bytesSent: 0, answerMs: [], connectMs: [] });
    this.stats = {
      seconds: 0,
      cpuMs: 0,
      loopDelayP99Ms: 0,
      loopDelayMaxMs: 0,
      body: { declared: emptyKind(), chunked: emptyKind(), gzip: emptyKind() },
      slow: { opened: 0, closedByServer: 0, answered408: 0, otherAnswers: {}, errors: {}, maxOpen: 0, openAtStop: 0, lifetimesMs: [] },
    };
    // Request line and a few headers, then header lines that never end (no blank line).
    const lines = [`POST ${plan.path} HTTP/1.1`, `Host: ${plan.host}:${plan.port}`, 'Content-Type: application/json'];
    for (let n = 0; lines.join('\r\n').length < 16_384; n += 1) lines.push(`X-Slow-${n}: ${'s'.repeat(24)}`);
    this.headerScript = Buffer.from(lines.join('\r\n'));
  }

  /** Builds the bodies, opens the slow sockets and starts the body clients; resolves when every slow socket has connected once. */
  async start(): Promise<void> {
    const { plan } = this;
    if (plan.kinds.includes('gzip')) {
      // On the thread pool: the event loop (autocannon's, with BENCH_ATTACK_IN_PROCESS=1) stays free.
      const compress = promisify(gzip);
      for (let size = plan.minBodyMb; size <= plan.maxBodyMb; size += 1) {
        const json = Buffer.concat([BODY_PREFIX, Buffer.alloc(size * MB - BODY_PREFIX.length - 3, 'a'), Buffer.from('"}}')]);
        this.gzipBodies.set(size, await compress(json, { level: 9 }));
      }
    }
    this.cpuAtStart = process.cpuUsage();
    this.startedAt = performance.now();
    this.loopDelay.enable();
    this.timers.push(setInterval(() => this.pump(), plan.chunkEveryMs));
    this.timers.push(setInterval(() => this.trickle(), Math.max(10, Math.min(100, plan.slowEveryMs / 10))));
    const connected: Promise<void>[] = [];
    for (let slot = 0; slot < plan.slowSockets; slot += 1) {
      connected.push(new Promise((resolve) => this.openSlow(resolve)));
      // A few at a time: the listen backlog is not the subject.
      if (slot % 50 === 49) await sleep(5);
    }
    for (let client = 0; client < plan.bodyClients; client += 1) this.clients.push(this.bodyClient(client));
    await Promise.all(connected);
  }

  async stop(): Promise<AttackStats> {
    this.stopping = true;
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cpu = process.cpuUsage(this.cpuAtStart);
    for (const timer of this.timers) clearInterval(timer);
    for (const timer of this.pendingReconnects) clearTimeout(timer);
    this.loopDelay.disable();
    this.stats.slow.openAtStop = this.slow.size;
    for (const { socket } of this.slow) socket.destroy();
    for (const socket of this.bodySockets) socket.destroy();
    await Promise.all(this.clients);
    for (const kind of Object.values(this.stats.body)) {
      kind.answerMs.sort((a, b) => a - b);
      kind.connectMs.sort((a, b) => a - b);
    }
    this.stats.slow.lifetimesMs.sort((a, b) => a - b);
    return {
      ...this.stats,
      seconds,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: this.loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: this.loopDelay.max / 1e6,
    };
  }

  private async bodyClient(index: number): Promise<void> {
    const { plan } = this;
    // Spread the clients' first requests over one pause.
    await sleep((index * plan.pauseMs) / plan.bodyClients);
    const sizes = plan.maxBodyMb - plan.minBodyMb + 1;
    for (let n = index; !this.stopping; n += 1) {
      // Each client goes through the kinds and the sizes in turn, every size coming round for every
      // kind (5 is prime to 14 sizes, and 3 kinds to 14): the clients start at different places.
      const kind = plan.kinds[n % plan.kinds.length];
      const size = plan.minBodyMb + ((n * 5) % sizes);
      await this.bodyRequest(kind, size);
      if (!this.stopping) await sleep(plan.pauseMs);
    }
  }

  /** One request with an oversized body on a connection of its own; resolves when it is over. */
  private bodyRequest(kind: BodyKind, sizeMb: number): Promise<void> {
    const { plan } = this;
    const stats = this.stats.body[kind];
    return new Promise((resolve) => {
      const started = performance.now();
      const socket = net.connect({ host: plan.host, port: plan.port });
      this.bodySockets.add(socket);
      socket.setNoDelay(true);
      let head = '';
      let answered = false;
      let timedOut = false;
      let stream: Streaming | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
      }, plan.answerTimeoutMs);
      const write = (buffer: Buffer) => {
        socket.write(buffer);
        stats.bytesSent += buffer.length;
      };
      socket.on('connect', () => {
        if (this.stopping) {
          socket.destroy();
          return;
        }
        stats.connectMs.push(performance.now() - started);
        const headers = [`POST ${plan.path} HTTP/1.1`, `Host: ${plan.host}:${plan.port}`, 'Content-Type: application/json'];
        if (kind === 'gzip') {
          const body = this.gzipBodies.get(sizeMb) as Buffer;
          socket.write(`${[...headers, 'Content-Encoding: gzip', `Content-Length: ${body.length}`].join('\r\n')}\r\n\r\n`);
          write(body);
          return;
        }
        const bytes = sizeMb * MB;
        if (kind === 'declared') {
          socket.write(`${[...headers, `Content-Length: ${bytes}`].join('\r\n')}\r\n\r\n`);
          write(BODY_PREFIX);
        } else {
          socket.write(`${[...headers, 'Transfer-Encoding: chunked'].join('\r\n')}\r\n\r\n`);
          write(Buffer.concat([Buffer.from(`${BODY_PREFIX.length.toString(16)}\r\n`), BODY_PREFIX, CRLF]));
        }
        stream = { socket, kind, left: bytes - BODY_PREFIX.length, stats };
        this.streaming.add(stream);
      });
      socket.on('data', (data: Buffer) => {
        if (answered) return;
        head += data.toString('latin1', 0, Math.min(data.length, 64));
        const status = STATUS_LINE.exec(head)?.[1];
        if (status === undefined && head.length < 16) return;
        answered = true;
        count(stats.statuses, status ?? 'unreadable');
        stats.answerMs.push(performance.now() - started);
        socket.destroy();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!this.stopping) count(stats.errors, error.code ?? error.message);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        this.bodySockets.delete(socket);
        if (stream) this.streaming.delete(stream);
        if (!this.stopping || answered) {
          stats.requests += 1;
          if (timedOut) stats.timedOut += 1;
          else if (!answered) stats.endedUnanswered += 1;
        }
        resolve();
      });
    });
  }

  /** Writes the next chunk of every streamed body whose socket is not backed up. */
  private pump(): void {
    for (const stream of this.streaming) {
      const { socket } = stream;
      if (socket.destroyed || !socket.writable || socket.writableNeedDrain) continue;
      if (stream.left <= 0) continue;
      const size = Math.min(stream.left, this.chunk.length);
      stream.left -= size;
      const ending = stream.left <= 0;
      if (stream.kind === 'declared') {
        socket.write(size === this.chunk.length ? this.chunk : this.chunk.subarray(0, size));
      } else {
        const frame = size === this.chunk.length ? this.chunkFrame : Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), this.chunk.subarray(0, size), CRLF]);
        socket.write(ending ? Buffer.concat([frame, Buffer.from('0\r\n\r\n')]) : frame);
      }
      stream.stats.bytesSent += size;
    }
  }

  private openSlow(connected?: () => void): void {
    const { plan } = this;
    const slow = this.stats.slow;
    const socket = net.connect({ host: plan.host, port: plan.port });
    const now = performance.now();
    const entry: Slow = { socket, openedAt: now, nextAt: now + plan.slowEveryMs, sent: 0 };
    this.slow.add(entry);
    slow.opened += 1;
    slow.maxOpen = Math.max(slow.maxOpen, this.slow.size);
    let head = '';
    socket.on('connect', () => {
      // The request line at once, then the headers a few bytes at a time (trickle).
      const line = this.headerScript.indexOf('\r\n') + 2;
      socket.write(this.headerScript.subarray(0, line));
      entry.sent = line;
      connected?.();
    });
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1', 0, Math.min(data.length, 64));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!this.stopping) count(slow.errors, error.code ?? error.message);
      connected?.();
    });
    socket.on('close', () => {
      this.slow.delete(entry);
      if (this.stopping) return;
      slow.closedByServer += 1;
      slow.lifetimesMs.push(performance.now() - entry.openedAt);
      const status = STATUS_LINE.exec(head)?.[1];
      if (status === '408') slow.answered408 += 1;
      else if (status !== undefined) count(slow.otherAnswers, status);
      // The same slot again, after a moment: never more open than plan.slowSockets.
      const timer = setTimeout(() => {
        this.pendingReconnects.delete(timer);
        if (!this.stopping) this.openSlow();
      }, 10 + Math.random() * 40);
      this.pendingReconnects.add(timer);
    });
  }

  /** Sends the next few bytes of headers on every slow socket whose turn it is. */
  private trickle(): void {
    const { plan } = this;
    const now = performance.now();
    for (const entry of this.slow) {
      if (entry.nextAt > now || entry.sent === 0 || !entry.socket.writable) continue;
      entry.nextAt = now + plan.slowEveryMs;
      if (entry.sent >= this.headerScript.length) continue; // 16 KiB of headers at this pace takes hours
      const end = Math.min(this.headerScript.length, entry.sent + plan.slowFragmentBytes);
      entry.socket.write(this.headerScript.subarray(entry.sent, end));
      entry.sent = end;
    }
  }
}
