import { DEFAULT_ROOT_RATIO, requestSampling } from '../../src/telemetry/tracing';

describe('which requests are traced (requestSampling)', () => {
  it('chooses requests as they arrive for the parent-based samplers, the default among them', () => {
    // Unset: one request in a hundred without a sampled parent, as the README says.
    expect(requestSampling({})).toEqual({ rootRatio: 0.01 });
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
