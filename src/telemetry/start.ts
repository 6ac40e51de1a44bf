/**
 * The first module main.ts loads: tracing starts here, before http, express, graphql or pg are
 * loaded, when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and neither OTEL_SDK_DISABLED=true nor
 * OTEL_TRACES_EXPORTER=none says otherwise. Without one, nothing of OpenTelemetry is loaded and no
 * hook is installed: this module reads the environment and nothing else.
 */
import { tracingPlan } from './tracing-plan';
import { useTracing } from './tracing-slot';

const plan = tracingPlan(process.env);
if ('refuse' in plan) {
  process.stderr.write(`byom-subgraph cannot start: ${plan.refuse}\n`);
  process.exit(1);
}
if (plan.start) {
  const { startTracing } = require('./tracing') as typeof import('./tracing');
  useTracing(startTracing(process.env, { protocol: plan.protocol }));
}
