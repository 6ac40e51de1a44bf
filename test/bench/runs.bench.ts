import Anthropic from '@anthropic-ai/sdk';
import { Provider } from '../../src/catalog/catalog';
import { anthropicClient } from '../../src/providers/provider-clients';
import { makeConnection, makeMembership, makeModelSettings, makeOrganization, OrgRole } from '../support/factories';
import { makeTestKey, standInEnv, startProviderStandIn } from '../support/provider-stand-in';
import { startTestServer } from '../support/test-server';
import { graphqlPoster, ms, percentile, printTable, timed, verdict } from './support';

const RUNS = 200;
const WARM_RUNS = 20;
/** What the stand-in's 429 asks for; a service that honoured it would add this much to every failover. */
const RETRY_AFTER_SECONDS = 30;

/**
 * runAgent served by the primary, beside runAgent whose primary answers 429 (retry-after 30 s) and
 * whose fallback serves, alternating in one run, with the stand-in answering at once. Beside them,
 * the bare provider round trip (the SDK against the stand-in): failover should add about one.
 */
export async function benchRuns(): Promise<void> {
  const standIn = await startProviderStandIn();
  const server = await startTestServer({ LOG_LEVEL: 'warn', ...standInEnv(standIn) });
  try {
    const organization = await makeOrganization(server.dataSource, { name: 'Bench runs' });
    await makeMembership(server.dataSource, organization, 'bench-runner', OrgRole.MEMBER);
    const keys = { ANTHROPIC: makeTestKey('ANTHROPIC'), OPENAI: makeTestKey('OPENAI') };
    standIn.acceptKeys(keys.ANTHROPIC, keys.OPENAI);
    await makeConnection(server.dataSource, organization, Provider.ANTHROPIC, keys.ANTHROPIC);
    await makeConnection(server.dataSource, organization, Provider.OPENAI, keys.OPENAI);
    await makeModelSettings(server.dataSource, organization, { primaryModelId: 'claude-sonnet-4-6', fallbackModelId: 'gpt-5.4' });
    const token = await server.token('bench-runner');
    const post = graphqlPoster(server.url, token);
    const created = await post('mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }', {
      input: { organizationId: organization.id, name: 'Bench agent' },
    });
    const agentId = created.createAgent.id as string;
    const RUN = 'mutation($input: RunAgentInput!) { runAgent(input: $input) { status servedBy { model { id } } attempts { outcome reason } } }';
    const input = { agentId, messages: [{ role: 'USER', content: 'How long does a failover take?' }] };

    const direct = async () => {
      const { runAgent } = await post(RUN, { input });
      if (runAgent.servedBy?.model.id !== 'claude-sonnet-4-6' || runAgent.attempts.length !== 1) throw new Error(`a direct run went wrong: ${JSON.stringify(runAgent)}`);
    };
    const failover = async () => {
      standIn.script('ANTHROPIC', { status: 429, retryAfter: String(RETRY_AFTER_SECONDS) });
      const { runAgent } = await post(RUN, { input });
      if (runAgent.servedBy?.model.id !== 'gpt-5.4' || runAgent.attempts[0]?.reason !== 'RATE_LIMITED') throw new Error(`a failover went wrong: ${JSON.stringify(runAgent)}`);
    };
    const client = anthropicClient(keys.ANTHROPIC, { anthropicBaseUrl: standIn.anthropicBaseUrl, openaiBaseUrl: undefined }, 5_000);
    const bare = () =>
      client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 1024, messages: [{ role: 'user', content: 'How long does a failover take?' }] });
    const bare429 = async () => {
      standIn.script('ANTHROPIC', { status: 429, retryAfter: String(RETRY_AFTER_SECONDS) });
      try {
        await bare();
      } catch (error) {
        if (error instanceof Anthropic.RateLimitError) return;
        throw error;
      }
      throw new Error('the stand-in did not answer 429');
    };

    // Each failover cools the primary for its retry-after (DESIGN.md section 7); this bench measures
    // the failover itself, so every run starts with no cooldown (untimed). The cooldown bench measures the skip.
    const cool = () => server.dataSource.query('DELETE FROM model_cooldown');
    for (let warm = 0; warm < WARM_RUNS; warm += 1) {
      await cool();
      await direct();
      await failover();
      await bare();
      await bare429();
    }
    standIn.reset();
    const times = { direct: [] as number[], failover: [] as number[], bare: [] as number[], bare429: [] as number[] };
    for (let run = 0; run < RUNS; run += 1) {
      await cool();
      times.direct.push(await timed(direct));
      times.failover.push(await timed(failover));
      times.bare.push(await timed(bare));
      times.bare429.push(await timed(bare429));
    }
    for (const list of Object.values(times)) list.sort((a, b) => a - b);
    const p50 = (list: number[]) => percentile(list, 50);
    printTable(
      `runAgent through the stand-in (answering at once), ${RUNS} runs each, alternating`,
      ['', 'p50', 'p99'],
      [
        ['runAgent served by the primary (one provider call)', ms(p50(times.direct)), ms(percentile(times.direct, 99))],
        [`runAgent after a 429 (retry-after ${RETRY_AFTER_SECONDS} s), served by the fallback`, ms(p50(times.failover)), ms(percentile(times.failover, 99))],
        ['the bare provider round trip (SDK messages.create)', ms(p50(times.bare)), ms(percentile(times.bare, 99))],
        ['the bare provider round trip answered 429', ms(p50(times.bare429)), ms(percentile(times.bare429, 99))],
      ],
    );
    const added = p50(times.failover) - p50(times.direct);
    const extraTrip = p50(times.bare429);
    process.stdout.write(
      `failover p50 minus direct p50: ${ms(added)}; one extra round trip (a 429) takes ${ms(extraTrip)}; ` +
        `the failover adds no more than it plus 2 ms (no backoff; honouring retry-after would add ${RETRY_AFTER_SECONDS * 1000} ms): ${verdict(added <= extraTrip + 2)}\n`,
    );
  } finally {
    await server.stop();
    await standIn.close();
  }
}
