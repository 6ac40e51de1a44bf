/**
 * `npm run demo`: the seed's whole story, told through the public GraphQL API over HTTP to the real
 * service (`node dist/src/main.js`, built first) on a scratch data directory, with the provider
 * stand-in in this process in place of Anthropic and OpenAI. Every step prints what it does, the
 * operation and the answer, and checks the answer: the demo exits 1 at the first one that is not
 * what the story says, so it doubles as a smoke test. Whatever happens (success, a failed step,
 * Ctrl-C), the service is stopped with SIGTERM and waited for, the stand-in is closed and the
 * scratch directory removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { signDevToken } from '../../src/auth/dev-token';
import { DEV_JWT_SECRET_FILE } from '../../src/config';
import { type ProviderStandIn, startProviderStandIn } from '../support/provider-stand-in';

const ROOT = path.resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
const WIDTH = 100;

/** A step whose answer is not what the story says. */
class StoryBroken extends Error {}

// Everything the demo starts, so that stop() can end it from any point.
let building: ChildProcess | undefined;
let service: ChildProcess | undefined;
let standIn: ProviderStandIn | undefined;
let scratch: string | undefined;
/** The service's own output, shown when something goes wrong. */
let serviceOutput = '';
/** The story's steps so far. */
let n = 0;

async function main(): Promise<void> {
  const started = performance.now();
  build();
  await buildDone();

  scratch = mkdtempSync(path.join(os.tmpdir(), 'byom-demo-'));
  const anthropicKey = `sk-ant-api03-demo-${randomHex(16)}`;
  const openaiKey = `sk-proj-demo-${randomHex(16)}`;
  standIn = await startProviderStandIn({ acceptKeys: [anthropicKey, openaiKey] });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  startService({
    DATA_DIR: scratch,
    PORT: String(port),
    ANTHROPIC_BASE_URL: standIn.anthropicBaseUrl,
    OPENAI_BASE_URL: standIn.openaiBaseUrl,
    LOG_LEVEL: 'warn',
  });
  await ready(`http://127.0.0.1:${port}/readyz`);

  // Outside production the service signs with the development secret it wrote on start, as
  // `npm run -s token` does.
  const secret = readFileSync(path.join(scratch, DEV_JWT_SECRET_FILE), 'utf8').trim();
  const as = {
    operator: { label: 'ops, a platform operator', token: await signDevToken(secret, { sub: 'ops', operator: true, ttl: '1h' }) },
    admin: { label: 'ada, admin of Acme', token: await signDevToken(secret, { sub: 'ada', ttl: '1h' }) },
    member: { label: 'max, member of Acme EU', token: await signDevToken(secret, { sub: 'max', ttl: '1h' }) },
  };
  process.stdout.write(
    `The service runs at ${url} on the scratch directory ${scratch};\n` +
      `the provider stand-in at ${standIn.url} accepts one Anthropic and one OpenAI key.\n`,
  );
  const ask = graphql(url);
  const step = async (what: string, caller: { label: string; token: string }, document: string, variables: Record<string, unknown>) => {
    n += 1;
    process.stdout.write(`\n── ${n}. ${what}\n   as ${caller.label}\n\n${document.trim()}\n`);
    if (Object.keys(variables).length > 0) process.stdout.write(`variables: ${oneLine(variables)}\n`);
    const data = await ask(caller.token, document, variables);
    process.stdout.write(`→ ${pretty(data, '', 2)}\n`);
    return data;
  };
  const note = (what: string) => {
    n += 1;
    process.stdout.write(`\n── ${n}. ${what}\n`);
  };

  // 1. The organizations and their people.
  const acme = (
    await step('The operator creates the organization Acme.', as.operator, CREATE_ORGANIZATION, { name: 'Acme' })
  ).createOrganization;
  must(acme?.name === 'Acme' && typeof acme.id === 'string', 'Acme was created');
  const acmeEu = (
    await step('The operator creates Acme EU, a sub-organization of Acme.', as.operator, CREATE_ORGANIZATION, {
      name: 'Acme EU',
      parentId: acme.id,
    })
  ).createOrganization;
  must(acmeEu?.name === 'Acme EU' && acmeEu.parent?.name === 'Acme', 'Acme EU was created under Acme');
  const adminSet = (
    await step('The operator makes ada an admin of Acme.', as.operator, SET_MEMBERSHIP, { org: acme.id, user: 'ada', role: 'ADMIN' })
  ).setMembership;
  must(adminSet?.role === 'ADMIN' && adminSet.organization?.name === 'Acme', 'ada is an admin of Acme');
  const memberSet = (
    await step('The operator makes max a member of Acme EU.', as.operator, SET_MEMBERSHIP, { org: acmeEu.id, user: 'max', role: 'MEMBER' })
  ).setMembership;
  must(memberSet?.role === 'MEMBER' && memberSet.organization?.name === 'Acme EU', 'max is a member of Acme EU');

  // 2. Acme brings its own accounts.
  for (const [provider, apiKey] of [['ANTHROPIC', anthropicKey], ['OPENAI', openaiKey]] as const) {
    const connection = (
      await step(
        `The admin connects Acme's own ${provider === 'ANTHROPIC' ? 'Anthropic' : 'OpenAI'} account; the provider (the stand-in) accepts the key, which is never shown again.`,
        as.admin,
        CONNECT_PROVIDER,
        { org: acme.id, provider, apiKey },
      )
    ).connectProvider;
    must(connection?.provider === provider && connection.status === 'VERIFIED', `${provider} is connected and VERIFIED`);
    must(connection.keyHint === `…${apiKey.slice(-4)}`, `the ${provider} connection shows only the key's last four characters`);
  }
  const pinned = (
    await step(
      'The admin pins claude-sonnet-4-6 with the fallback gpt-5.4 (the other provider), and offers them to sub-organizations.',
      as.admin,
      UPDATE_MODEL_SETTINGS,
      { org: acme.id, exclusive: false, expectedVersion: 0 },
    )
  ).updateModelSettings;
  must(pinned?.settings?.version === 1 && pinned.settings.offerToSubOrganizations === true, 'the settings are stored, version 1, offered');
  must(pinned.inheritingSubOrganizations === 1, 'one sub-organization (Acme EU) now inherits them');
  must(
    pinned.effectiveModels?.source === 'OWN' &&
      pinned.effectiveModels.primary?.model?.id === 'claude-sonnet-4-6' &&
      pinned.effectiveModels.fallback?.model?.id === 'gpt-5.4',
    "Acme's own effective models are claude-sonnet-4-6 and gpt-5.4",
  );

  // 3. Acme EU uses them.
  const inherited = (
    await step("Acme EU's member reads its effective models: they are INHERITED from Acme, on Acme's accounts.", as.member, EFFECTIVE_MODELS, {
      org: acmeEu.id,
    })
  ).organization?.effectiveModels;
  must(inherited?.source === 'INHERITED' && inherited.inheritedFrom?.name === 'Acme', "Acme EU's effective models are INHERITED from Acme");
  for (const [which, id] of [['primary', 'claude-sonnet-4-6'], ['fallback', 'gpt-5.4']] as const) {
    const option = inherited[which];
    must(
      option?.model?.id === id && option.billing === 'PROVIDER_ACCOUNT' && option.connectionOwner?.name === 'Acme',
      `Acme EU's ${which} is ${id}, billed to Acme's provider account`,
    );
  }
  const agent = (
    await step('The member creates an agent in Acme EU with the alias "sonnet": it pins the full id claude-sonnet-4-6.', as.member, CREATE_AGENT, {
      org: acmeEu.id,
      name: 'Support bot',
      model: 'sonnet',
    })
  ).createAgent;
  must(
    agent?.model?.model?.id === 'claude-sonnet-4-6' && agent.model.billing === 'PROVIDER_ACCOUNT' && agent.modelAvailable === true,
    'the agent is pinned to claude-sonnet-4-6 on a provider account',
  );

  // 4. Runs, and a failover.
  const first = (
    await step('The member runs the agent: the primary, claude-sonnet-4-6, answers.', as.member, RUN_AGENT, {
      agent: agent.id,
      content: 'Where is my order?',
    })
  ).runAgent;
  must(first?.status === 'SUCCEEDED' && first.servedBy?.model?.id === 'claude-sonnet-4-6', 'the run SUCCEEDED, served by claude-sonnet-4-6');
  must(first.attempts?.length === 1 && first.attempts[0].outcome === 'SUCCEEDED', 'the run took one attempt');

  note('The stand-in is told to answer Anthropic\'s next call with 529 (overloaded_error), as Anthropic does when it is overloaded.\n   (no GraphQL: the demo scripts the stand-in it runs)');
  standIn.reset();
  standIn.script('ANTHROPIC', { status: 529 });
  const second = (
    await step('The member runs the agent again.', as.member, RUN_AGENT_BRIEFLY, { agent: agent.id, content: 'And my refund?' })
  ).runAgent;
  must(second?.status === 'SUCCEEDED' && typeof second.id === 'string', 'the second run SUCCEEDED too');
  const timeline = (
    await step(
      "The member reads that run's timeline: Anthropic's 529 was retriable, so the same request went at once to the fallback, gpt-5.4.",
      as.member,
      RUN_TIMELINE,
      { run: second.id },
    )
  ).run;
  const [failed, served] = timeline?.attempts ?? [];
  must(timeline?.attempts?.length === 2, 'the timeline has two attempts');
  must(
    failed.model?.id === 'claude-sonnet-4-6' && failed.outcome === 'FAILED' && failed.httpStatus === 529 && failed.reason === 'OVERLOADED',
    'the first attempt, claude-sonnet-4-6, FAILED with 529 (OVERLOADED)',
  );
  must(
    served.model?.id === 'gpt-5.4' && served.provider === 'OPENAI' && served.outcome === 'SUCCEEDED' && served.billing === 'PROVIDER_ACCOUNT',
    "the second attempt, gpt-5.4 on Acme's OpenAI account, SUCCEEDED",
  );
  must(timeline.servedBy?.model?.id === 'gpt-5.4' && timeline.output?.text === 'Echo: And my refund?', 'gpt-5.4 served the answer');
  const seen = standIn.requests.map((request) => `${request.provider} ${request.method} ${request.path} → ${request.answered}`);
  process.stdout.write(`   the stand-in saw: ${seen.join('; ')}\n`);
  must(
    seen.join('; ') === 'ANTHROPIC POST /v1/messages → 529; OPENAI POST /v1/chat/completions → 200',
    'the stand-in saw one Anthropic call (529) and one OpenAI call (200)',
  );

  // 5. Exclusive mode.
  const before = (
    await step("Before exclusive mode, Acme EU's model dropdown offers Acme's pair and then the platform's models.", as.member, AVAILABLE_MODELS, {
      org: acmeEu.id,
    })
  ).organization;
  const beforeModels: { billing: string }[] = before?.effectiveModels?.availableModels ?? [];
  must(before?.effectiveModels?.exclusive === false, 'Acme EU is not exclusive yet');
  must(beforeModels.some((option) => option.billing === 'PLATFORM_CREDITS'), "the platform's models are offered");
  const exclusive = (
    await step(
      'The admin switches exclusive mode on (settings are replaced whole, so the pair is given again; expectedVersion guards against a lost update).',
      as.admin,
      UPDATE_MODEL_SETTINGS,
      { org: acme.id, exclusive: true, expectedVersion: 1 },
    )
  ).updateModelSettings;
  must(exclusive?.settings?.version === 2 && exclusive.settings.exclusive === true, 'the settings are now exclusive, version 2');
  const after = (
    await step(
      "After: Acme EU inherits the exclusive flag with the pair, so its dropdown offers only Acme's models; the agent's pin is still available.",
      as.member,
      AVAILABLE_MODELS,
      { org: acmeEu.id },
    )
  ).organization;
  const afterModels: { model: { id: string }; billing: string }[] = after?.effectiveModels?.availableModels ?? [];
  must(after?.effectiveModels?.exclusive === true, 'Acme EU is exclusive now');
  must(
    afterModels.map((option) => `${option.model.id} ${option.billing}`).join(', ') === 'claude-sonnet-4-6 PROVIDER_ACCOUNT, gpt-5.4 PROVIDER_ACCOUNT',
    "only Acme's claude-sonnet-4-6 and gpt-5.4 are offered, no platform model",
  );
  must(after.agents?.length === 1 && after.agents[0].modelAvailable === true, "the agent's pin is still available");

  // 6. Usage.
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const usage = (
    await step(
      "Usage of Acme EU's runs, one row per provider, model and billing: both providers, paid by Acme's accounts, no platform credits. " +
        "(Usage is counted where the runs are, Acme EU, and only its admins may read it: ada is not one, so the operator reads it.)",
      as.operator,
      USAGE,
      { org: acmeEu.id, from, to },
    )
  ).organization?.usage;
  const rows: { provider: string; model: { id: string }; billing: string; runs: number; platformCredits: number }[] = usage ?? [];
  const row = (provider: string) => rows.find((candidate) => candidate.provider === provider);
  must(row('ANTHROPIC')?.model.id === 'claude-sonnet-4-6' && row('ANTHROPIC')?.runs === 2, 'ANTHROPIC claude-sonnet-4-6: 2 runs (one served, one failed over)');
  must(row('OPENAI')?.model.id === 'gpt-5.4' && row('OPENAI')?.runs === 1, 'OPENAI gpt-5.4: 1 run');
  must(rows.every((candidate) => candidate.billing === 'PROVIDER_ACCOUNT' && candidate.platformCredits === 0), 'everything was paid by Acme\'s accounts');

  process.stdout.write(`\nThe story holds: ${n} steps in ${((performance.now() - started) / 1000).toFixed(1)} s (build and start included).\n`);
}

// ── The operations ─────────────────────────────────────────────────────────────────────────────

const CREATE_ORGANIZATION = `
mutation CreateOrganization($name: String!, $parentId: ID) {
  createOrganization(input: { name: $name, parentId: $parentId }) { id name parent { name } }
}`;

const SET_MEMBERSHIP = `
mutation SetMembership($org: ID!, $user: ID!, $role: OrgRole!) {
  setMembership(input: { organizationId: $org, userId: $user, role: $role }) { userId role organization { name } }
}`;

const CONNECT_PROVIDER = `
mutation ConnectProvider($org: ID!, $provider: Provider!, $apiKey: String!) {
  connectProvider(input: { organizationId: $org, provider: $provider, apiKey: $apiKey }) { id provider keyHint status }
}`;

const UPDATE_MODEL_SETTINGS = `
mutation UpdateModelSettings($org: ID!, $exclusive: Boolean!, $expectedVersion: Int!) {
  updateModelSettings(input: {
    organizationId: $org, primaryModelId: "claude-sonnet-4-6", fallbackModelId: "gpt-5.4",
    exclusive: $exclusive, offerToSubOrganizations: true, expectedVersion: $expectedVersion
  }) {
    settings { version exclusive offerToSubOrganizations }
    warnings inheritingSubOrganizations
    effectiveModels { source exclusive primary { model { id } billing } fallback { model { id } billing } }
  }
}`;

const EFFECTIVE_MODELS = `
query EffectiveModels($org: ID!) {
  organization(id: $org) {
    name
    effectiveModels {
      source inheritedFrom { name } exclusive
      primary { model { id } billing connectionOwner { name } }
      fallback { model { id } billing connectionOwner { name } }
    }
  }
}`;

const CREATE_AGENT = `
mutation CreateAgent($org: ID!, $name: String!, $model: String) {
  createAgent(input: { organizationId: $org, name: $name, model: $model }) {
    id name modelAvailable model { model { id } billing connectionOwner { name } }
  }
}`;

const RUN_AGENT = `
mutation RunAgent($agent: ID!, $content: String!) {
  runAgent(input: { agentId: $agent, messages: [{ role: USER, content: $content }] }) {
    id status servedBy { model { id } billing } output { text }
    attempts { model { id } outcome httpStatus }
  }
}`;

const RUN_AGENT_BRIEFLY = `
mutation RunAgent($agent: ID!, $content: String!) {
  runAgent(input: { agentId: $agent, messages: [{ role: USER, content: $content }] }) { id status }
}`;

const RUN_TIMELINE = `
query RunTimeline($run: ID!) {
  run(id: $run) {
    status servedBy { model { id } billing } output { text }
    attempts { model { id } provider billing outcome reason httpStatus latencyMs inputTokens outputTokens error { type message } }
  }
}`;

const AVAILABLE_MODELS = `
query AvailableModels($org: ID!) {
  organization(id: $org) {
    effectiveModels { source exclusive availableModels { model { id } billing } }
    agents { name model { model { id } } modelAvailable }
  }
}`;

const USAGE = `
query Usage($org: ID!, $from: DateTime!, $to: DateTime!) {
  organization(id: $org) {
    name
    usage(from: $from, to: $to) { provider model { id } billing runs inputTokens outputTokens platformCredits }
  }
}`;

// ── Plumbing ───────────────────────────────────────────────────────────────────────────────────

function must(condition: unknown, what: string): asserts condition {
  if (!condition) throw new StoryBroken(`expected: ${what}`);
}

/** A GraphQL POST as the bearer of a token: the answer's data; an answer with errors breaks the story. */
function graphql(url: string) {
  return async (token: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: Record<string, any> | null; errors?: unknown[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new StoryBroken(`HTTP ${response.status}, not JSON: ${text.slice(0, 500)}`);
    }
    if (body.errors?.length) throw new StoryBroken(`the answer has errors (HTTP ${response.status}):\n${pretty(body)}`);
    if (!body.data) throw new StoryBroken(`HTTP ${response.status} without data: ${text.slice(0, 500)}`);
    return body.data;
  };
}

/** The build step package.json has now (others may change it), else the TypeScript compiler. */
function build(): void {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const [command, args] = scripts.build ? ['npm', ['run', '-s', 'build']] : ['npx', ['tsc', '-p', 'tsconfig.build.json']];
  process.stdout.write(`Building the service (${command} ${args.join(' ')}) …\n`);
  // A process group of its own, so that stopping the build stops the compiler npm runs, not npm alone.
  building = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
}

function buildDone(): Promise<void> {
  const child = building!;
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      building = undefined;
      if (code === 0 && existsSync(path.join(ROOT, 'dist/src/main.js'))) resolve();
      else reject(new StoryBroken(`the build failed (${signal ?? `exit status ${code}`})`));
    });
  });
}

/** `node dist/src/main.js` with only the environment the demo means: no DATABASE_URL, no secrets of the caller's. */
function startService(env: Record<string, string>): void {
  const inherited = Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  service = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: { ...inherited, NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    serviceOutput = (serviceOutput + chunk.toString('utf8')).slice(-20_000);
  };
  service.stdout!.on('data', keep);
  service.stderr!.on('data', keep);
  service.once('exit', () => {
    service = undefined;
  });
}

async function ready(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!service) throw new StoryBroken('the service exited during start');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new StoryBroken(`the service was not ready in ${READY_TIMEOUT_MS / 1000} s`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

let stopping: Promise<void> | undefined;
/** Set on SIGINT or SIGTERM: what fails afterwards is the stopping, not the story. */
let interrupted = false;

/** Ends everything the demo started, once, whatever state it got to. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    const build = building;
    if (build) {
      const exited = new Promise<void>((resolve) => build.once('exit', () => resolve()));
      killGroup(build, 'SIGTERM');
      await exited;
    }
    const child = service;
    if (child) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await standIn?.close().catch(() => undefined);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  })();
  return stopping;
}

// A last resort if the process exits some other way: nothing is left running or on disk.
process.on('exit', () => {
  if (building) killGroup(building, 'SIGKILL');
  service?.kill('SIGKILL');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the service and the stand-in …\n`);
    void stop().finally(() => process.exit(status));
  });
}

main().then(
  () => stop().then(() => process.exit(0)),
  (error: unknown) => {
    if (interrupted) return;
    process.stderr.write(`\nDEMO FAILED${n > 0 ? ` at step ${n}` : ''}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!(error instanceof StoryBroken) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    if (serviceOutput) process.stderr.write(`\nThe service's last output:\n${serviceOutput.slice(-4_000)}\n`);
    void stop().finally(() => process.exit(1));
  },
);

// ── Printing ───────────────────────────────────────────────────────────────────────────────────

/** JSON on one line, with spaces: { "a": 1, "b": [1, 2] }. */
function oneLine(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[${value.map(oneLine).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([key, item]) => `${JSON.stringify(key)}: ${oneLine(item)}`).join(', ')} }`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * JSON indented by two spaces a level, with a value kept on one line when it fits on the rest of
 * its line (`indent` starts the line, `used` characters of it are taken).
 */
function pretty(value: unknown, indent = '', used = indent.length): string {
  const flat = oneLine(value);
  if (used + flat.length <= WIDTH || value === null || typeof value !== 'object') return flat;
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((item) => inner + pretty(item, inner))
    : Object.entries(value).map(([key, item]) => {
        const label = `${JSON.stringify(key)}: `;
        return inner + label + pretty(item, inner, inner.length + label.length);
      });
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${items.join(',\n')}\n${indent}${close}`;
}
