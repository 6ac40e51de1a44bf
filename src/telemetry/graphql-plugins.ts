import type { ApolloServerPlugin } from '@apollo/server';
import type { Metrics } from './metrics';

/** Counts each GraphQL request with its operation, its duration and the codes of the errors it answered. */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, operationName, response }) {
          const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          metrics.request(
            operationName,
            operation?.operation,
            (performance.now() - started) / 1000,
            errors.map((error) => error.extensions?.code),
          );
        },
      };
    },
  };
}
