import { Provider } from '../../src/catalog/catalog';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { makeTestKey, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer } from '../support/test-server';
import { graphqlPoster, ms, percentile, printTable, timed, verdict } from './support';

const RUNS = 200;
const WARM_RUNS = 20;
const RETRY_AFTER_SECONDS = 30;

/**
 * Cooldowns (DESIGN.md section 7): an agent whose primary answers 429 (retry-after 30 s) to every
 * call, beside an agent of the same organization pinned to that fallback model, on the same key,
 * alternating in one run. Goals: at most 1.05 provider calls per run of the first (the 429 is
 * paid once, then the primary is passed over), and its latency within 10% of the direct runs'.
 */
export async function benchCooldowns(): Promise<void> {
  const standIn = await startProviderStandIn();
  const server = await startTestServer({ LOG_LEVEL: 'warn', ...standInEnv(standIn) });
  try {
    const organization = await makeOrganization(server.dataSource, { name: 'Bench cooldowns' });
    await makeMembership(server.dataSource, organization, 'bench-cooler', OrgRole.MEMBER);
    const keys = { ANTHROPIC: makeTestKey('ANTHROPIC'), OPENAI: makeTestKey('OPENAI') };
    standIn.acceptKeys(keys.ANTHROPIC, keys.OPENAI);
    await makeConnection(server.dataSource, organization, Provider.ANTHROPIC, keys.ANTHROPIC);
    await makeConnection(server.dataSource, organization, Provider.OPENAI, keys.OPENAI);
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    const post = graphqlPoster(server.url, await server.token('bench-cooler'));
    const agent = async (model?: string) =>
      (await post('mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', { input: { organizationId: organization.id, name: 'Bench', model } }))
        .createAgent.id as string;
    const [limited, direct] = [await agent(), await agent('gpt-5.4')];
    const RUN = 'mutation($input: RunAgentInput!) { runAgent(input: $input) { servedBy { model { id } } attempts { outcome reason } } }';
    const run = async (agentId: string) => {
      const { runAgent } = await post(RUN, { input: { agentId, messages: [{ role: 'USER', content: 'Is the primary still cooling?' }] } });
      if (runAgent.servedBy?.model.id !== 'gpt-5.4') throw new Error(`a run went wrong: ${JSON.stringify(runAgent)}`);
    };
    const chatCalls = () => standIn.requests.filter((request) => request.path !== '/v1/models').length;

    // Warm both paths with a primary that answers: nothing cools yet.
    for (let warm = 0; warm < WARM_RUNS; warm += 1) {
      await run(direct);
      await server.dataSource.query('DELETE FROM model_cooldown');
    }
    standIn.reset();
    standIn.always({ model: 'claude-sonnet-4-6' }, { status: 429, retryAfter: String(RETRY_AFTER_SECONDS) });
    const times = { limited: [] as number[], direct: [] as number[] };
    const calls = { limited: 0, direct: 0 };
    const started = performance.now();
    for (let index = 0; index < RUNS; index += 1) {
      let before = chatCalls();
      times.limited.push(await timed(() => run(limited)));
      calls.limited += chatCalls() - before;
      before = chatCalls();
      times.direct.push(await timed(() => run(direct)));
      calls.direct += chatCalls() - before;
    }
    const elapsedS = (performance.now() - started) / 1000;
    for (const list of Object.values(times)) list.sort((a, b) => a - b);
    const perRun = (count: number) => (count / RUNS).toFixed(3);
    printTable(
      `runAgent with the primary answering 429 (retry-after ${RETRY_AFTER_SECONDS} s) throughout, beside runs served directly by the fallback model, ${RUNS} runs each, alternating (${elapsedS.toFixed(1)} s)`,
      ['', 'provider calls/run', 'p50', 'p99'],
      [
        ['primary cooling, fallback serves', perRun(calls.limited), ms(percentile(times.limited, 50)), ms(percentile(times.limited, 99))],
        ['pinned to the fallback model (direct)', perRun(calls.direct), ms(percentile(times.direct, 50)), ms(percentile(times.direct, 99))],
      ],
    );
    const callsMet = calls.limited / RUNS <= 1.05;
    const ratio = percentile(times.limited, 50) / percentile(times.direct, 50);
    process.stdout.write(`provider calls per run with the primary cooling: ${perRun(calls.limited)} (goal at most 1.05): ${verdict(callsMet)}\n`);
    process.stdout.write(`p50 latency against direct: ${((ratio - 1) * 100).toFixed(1)}% (goal within 10%): ${verdict(ratio <= 1.1)}\n`);
  } finally {
    await server.stop();
    await standIn.close();
  }
}
