/**
 * Whether the environment asks for tracing: an OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and neither OTEL_SDK_DISABLED=true nor
 * OTEL_TRACES_EXPORTER=none saying otherwise. Reads the environment and loads nothing: start.ts
 * acts on it, and scripts/start.mjs asks it before choosing what to run.
 */
export type TracingPlan = { start: false } | { start: true; protocol: 'http/protobuf' | 'http/json' } | { refuse: string };

export function tracingPlan(env: NodeJS.ProcessEnv): TracingPlan {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { start: false };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((name) => name.trim().toLowerCase());
  if (exporters.includes('none')) return { start: false };
  if (exporters.some((name) => name !== 'otlp')) return { refuse: `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} is not supported: only otlp (or none)` };
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    return { refuse: `OTLP protocol ${protocol} is not supported: set OTEL_EXPORTER_OTLP_PROTOCOL to http/protobuf or http/json` };
  }
  return { start: true, protocol };
}
