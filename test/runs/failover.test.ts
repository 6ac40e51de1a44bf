import { catalog, type CatalogModel } from '../../src/catalog/catalog';
import { Billing, type ModelOption } from '../../src/catalog/model-options';
import { sanitizeProviderMessage } from '../../src/providers/provider-calls';
import { rejectsKey } from '../../src/providers/provider-clients';
import { classifyFailure, planRun, type RunStep } from '../../src/runs/failover';

/** The failover rules (DESIGN.md section 7), without a provider or a database. */

const byom = (id: string, owner = 'org'): ModelOption => ({ model: catalog.find(id) as CatalogModel, billing: Billing.PROVIDER_ACCOUNT, connectionOwnerId: owner });
const platform = (id: string): ModelOption => ({ model: catalog.find(id) as CatalogModel, billing: Billing.PLATFORM_CREDITS, connectionOwnerId: null });

/** Steps as [action, model id, billing, tools sent] for compact comparisons. */
const brief = (steps: RunStep[]) =>
  steps.map((step) => [step.action, step.option.model.id, step.option.billing, step.action === 'SEND' ? step.withTools : step.reason]);

describe('planRun', () => {
  it('tries the pin, then the effective fallback', () => {
    expect(brief(planRun(byom('claude-sonnet-4-6'), { fallback: byom('gpt-5.4'), exclusive: false }, { tools: false }))).toEqual([
      ['SEND', 'claude-sonnet-4-6', 'PROVIDER_ACCOUNT', false],
      ['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', false],
    ]);
  });

  it('tries only the pin without a fallback, or when the pin is the fallback', () => {
    expect(brief(planRun(byom('gpt-5.4'), { fallback: null, exclusive: false }, { tools: false }))).toEqual([['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', false]]);
    expect(brief(planRun(byom('gpt-5.4'), { fallback: byom('gpt-5.4'), exclusive: false }, { tools: false }))).toEqual([['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', false]]);
  });

  it('falls over from a platform pin to a BYOM fallback of the same model: another account is another try', () => {
    expect(brief(planRun(platform('gpt-5.4'), { fallback: byom('gpt-5.4'), exclusive: false }, { tools: false }))).toEqual([
      ['SEND', 'gpt-5.4', 'PLATFORM_CREDITS', false],
      ['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', false],
    ]);
  });

  it('passes over a retired pin (MODEL_RETIRED) for the fallback, and a retired fallback too', () => {
    const retired = (option: ModelOption) => option.model.id === 'claude-sonnet-4-6';
    expect(brief(planRun(byom('claude-sonnet-4-6'), { fallback: byom('gpt-5.4'), exclusive: false }, { tools: true, retired }))).toEqual([
      ['SKIP', 'claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'MODEL_RETIRED'],
      ['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', true],
    ]);
    expect(brief(planRun(byom('gpt-5.4'), { fallback: byom('claude-sonnet-4-6'), exclusive: false }, { tools: false, retired }))).toEqual([
      ['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', false],
      ['SKIP', 'claude-sonnet-4-6', 'PROVIDER_ACCOUNT', 'MODEL_RETIRED'],
    ]);
  });

  it('never plans a platform fallback for an exclusive organization', () => {
    expect(brief(planRun(byom('claude-opus-4-6'), { fallback: platform('gpt-5-mini'), exclusive: true }, { tools: false }))).toEqual([
      ['SEND', 'claude-opus-4-6', 'PROVIDER_ACCOUNT', false],
    ]);
  });

  it('sends tools to models with AGENT_TOOLS', () => {
    expect(brief(planRun(byom('claude-opus-4-6'), { fallback: byom('gpt-5-mini'), exclusive: false }, { tools: true }))).toEqual([
      ['SEND', 'claude-opus-4-6', 'PROVIDER_ACCOUNT', true],
      ['SEND', 'gpt-5-mini', 'PROVIDER_ACCOUNT', true],
    ]);
  });

  it('skips a pin without AGENT_TOOLS for a request with tools when the fallback has it', () => {
    expect(brief(planRun(byom('claude-haiku-4-5'), { fallback: byom('gpt-5.4'), exclusive: false }, { tools: true }))).toEqual([
      ['SKIP', 'claude-haiku-4-5', 'PROVIDER_ACCOUNT', 'UNSUPPORTED_FEATURE'],
      ['SEND', 'gpt-5.4', 'PROVIDER_ACCOUNT', true],
    ]);
  });

  it('sends without tools to every model lacking AGENT_TOOLS when no later model has it', () => {
    expect(brief(planRun(byom('claude-haiku-4-5'), { fallback: byom('gpt-5-nano'), exclusive: false }, { tools: true }))).toEqual([
      ['SEND', 'claude-haiku-4-5', 'PROVIDER_ACCOUNT', false],
      ['SEND', 'gpt-5-nano', 'PROVIDER_ACCOUNT', false],
    ]);
    expect(brief(planRun(byom('claude-opus-4-6'), { fallback: byom('gpt-5-nano'), exclusive: false }, { tools: true }))).toEqual([
      ['SEND', 'claude-opus-4-6', 'PROVIDER_ACCOUNT', true],
      ['SEND', 'gpt-5-nano', 'PROVIDER_ACCOUNT', false],
    ]);
  });
});

describe('classifyFailure', () => {
  it.each([
    [408, 'REQUEST_TIMEOUT'],
    [409, 'CONFLICT'],
    [429, 'RATE_LIMITED'],
    [500, 'PROVIDER_ERROR'],
    [502, 'PROVIDER_ERROR'],
    [503, 'PROVIDER_UNAVAILABLE'],
    [504, 'PROVIDER_ERROR'],
    [529, 'OVERLOADED'],
  ])('goes on to the fallback after HTTP %s (%s)', (httpStatus, reason) => {
    expect(classifyFailure({ kind: 'HTTP', httpStatus })).toEqual({ reason, retriable: true });
  });

  it.each([
    [400, 'INVALID_REQUEST'],
    [401, 'INVALID_API_KEY'],
    [403, 'PERMISSION_DENIED'],
    [404, 'NOT_FOUND'],
    [413, 'REQUEST_TOO_LARGE'],
    [422, 'INVALID_REQUEST'],
    [418, 'INVALID_REQUEST'],
    [501, 'PROVIDER_ERROR'],
  ])('ends the run after HTTP %s (%s)', (httpStatus, reason) => {
    expect(classifyFailure({ kind: 'HTTP', httpStatus })).toEqual({ reason, retriable: false });
  });

  it('goes on after a timeout or a connection failure, and stops at an answer it cannot read', () => {
    expect(classifyFailure({ kind: 'TIMEOUT' })).toEqual({ reason: 'TIMEOUT', retriable: true });
    expect(classifyFailure({ kind: 'CONNECTION' })).toEqual({ reason: 'CONNECTION_FAILED', retriable: true });
    expect(classifyFailure({ kind: 'UNKNOWN' })).toEqual({ reason: 'UNEXPECTED_RESPONSE', retriable: false });
  });

  it('stops at a call the service aborted itself: its caller gone (CANCELLED) or the service stopping (INTERRUPTED)', () => {
    expect(classifyFailure({ kind: 'CANCELLED' })).toEqual({ reason: 'CANCELLED', retriable: false });
    expect(classifyFailure({ kind: 'INTERRUPTED' })).toEqual({ reason: 'INTERRUPTED', retriable: false });
  });

  it('takes 401 and 403 as the key refused, nothing else', () => {
    expect([401, 403, 400, 429].map((httpStatus) => rejectsKey({ kind: 'HTTP', httpStatus }))).toEqual([true, true, false, false]);
    expect(rejectsKey({ kind: 'TIMEOUT' })).toBe(false);
  });
});

describe('sanitizeProviderMessage', () => {
  it('removes keys, even partly masked ones, and keeps one short line', () => {
    const message = sanitizeProviderMessage(
      `Incorrect API key provided: sk-proj-****abcd.\nYou can find your API key at https://platform.openai.com. Also sk-ant-api03-${'x'.repeat(40)}`,
    );

    expect(message).toBe('Incorrect API key provided: [redacted] You can find your API key at https://platform.openai.com. Also [redacted]');
  });

  it('cuts long messages to 300 characters', () => {
    const message = sanitizeProviderMessage('word '.repeat(200));

    expect(message).toHaveLength(300);
    expect(message.endsWith('…')).toBe(true);
  });
});
