import { tracingPlan } from '../../src/telemetry/tracing-plan';

describe('whether tracing starts (tracingPlan)', () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

  it('starts only with an endpoint, and not when it is switched off', () => {
    expect(tracingPlan({})).toEqual({ start: false });
    expect(tracingPlan(endpoint)).toEqual({ start: true, protocol: 'http/protobuf' });
    expect(tracingPlan({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ start: true, protocol: 'http/json' });
    expect(tracingPlan({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toEqual({ start: false });
    expect(tracingPlan({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toEqual({ start: false });
  });

  it('refuses what it cannot do, naming the variable', () => {
    expect(tracingPlan({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({ refuse: expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL') });
    expect(tracingPlan({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual({ refuse: expect.stringContaining('only otlp') });
    // The traces' own endpoint is enough; without tracing the protocol is not read.
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual({ start: true, protocol: 'http/protobuf' });
    expect(tracingPlan({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual({ start: false });
  });
});
