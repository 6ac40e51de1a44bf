/**
 * The first module main.ts loads: tracing starts here, before http, express, graphql or pg are
 * loaded, when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and neither OTEL_SDK_DISABLED=true nor
 * OTEL_TRACES_EXPORTER=none says otherwise. Without one, nothing of OpenTelemetry is loaded and no
 * hook is installed: this module reads the environment and nothing else.
 */
import { useTracing } from './tracing-slot';

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

const plan = tracingPlan(process.env);
if ('refuse' in plan) {
  process.stderr.write(`byom-subgraph cannot start: ${plan.refuse}\n`);
  process.exit(1);
}
if (plan.start) {
  const { startTracing } = require('./tracing') as typeof import('./tracing');
  useTracing(startTracing(process.env, { protocol: plan.protocol }));
}
