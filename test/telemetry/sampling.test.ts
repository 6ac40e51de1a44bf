import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { DEFAULT_ROOT_RATIO, chosen, requestSampling } from '../../src/telemetry/tracing';

describe('which requests are traced (requestSampling)', () => {
  it('chooses requests as they arrive for the parent-based samplers, the default among them', () => {
    // Unset: one request in a thousand without a sampled parent, as the README says.
    expect(requestSampling({})).toEqual({ rootRatio: 0.001 });
    expect(requestSampling({ OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({ rootRatio: 0.25 });
    expect(requestSampling({ OTEL_TRACES_SAMPLER_ARG: 'lots' })).toEqual({ rootRatio: DEFAULT_ROOT_RATIO });
    expect(requestSampling({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' })).toEqual({ rootRatio: 1 });
    expect(requestSampling({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).toEqual({ rootRatio: 0 });
    expect(requestSampling({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).toEqual({ rootRatio: 0 });
    // As the SDK reads it: a ratio sampler without a ratio in [0, 1] samples everything.
    expect(requestSampling({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toEqual({ rootRatio: 1 });
  });

  it('leaves the samplers that do not follow the parent to the SDK, span by span', () => {
    for (const sampler of ['always_on', 'always_off', 'traceidratio', 'jaeger_remote']) expect(requestSampling({ OTEL_TRACES_SAMPLER: sampler })).toBeUndefined();
  });
});

describe('choosing a request (chosen)', () => {
  const sampled = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const notSampled = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' };
  const always = () => 0;
  // As startTracing registers it.
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  it('chooses a request with a sampled parent, never one with a parent not sampled, whatever the draw', () => {
    expect(chosen({ rootRatio: 0 }, sampled, always)).toBe(true);
    expect(chosen({ rootRatio: 1 }, notSampled, always)).toBe(false);
    // Not a valid traceparent: a root, drawn.
    expect(chosen({ rootRatio: 0 }, { traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }, always)).toBe(false);
    expect(chosen({ rootRatio: 1 }, { traceparent: 'nonsense' }, always)).toBe(true);
  });

  it('draws a request without a parent at the root ratio', () => {
    expect(chosen({ rootRatio: 0.1 }, {}, () => 0.5)).toBe(false);
    expect(chosen({ rootRatio: 0.1 }, {}, () => 0.05)).toBe(true);
    // A ratio of 0 never draws one, even at a draw of 0.
    expect(chosen({ rootRatio: 0 }, {}, always)).toBe(false);
  });
});
