import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { GraphQLError } from 'graphql';
import { formatError } from '../errors';
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

/**
 * The gateway's `ftv1` inline traces (asked with `apollo-federation-include-trace: ftv1`): field
 * timings of this subgraph, each error in them as formatError shows it in the response, so a
 * trace says no more than the answer does. Apollo hands the transform a copy of each error
 * without its originalError (which formatError reads); the copy keeps the original's
 * `extensions` object, by which the original is found.
 */
export function federatedTraces(): ApolloServerPlugin[] {
  const originals = new WeakMap<object, GraphQLError>();
  const remember: ApolloServerPlugin = {
    async requestDidStart({ request }) {
      if (request.http?.headers.get('apollo-federation-include-trace') !== 'ftv1') return;
      return {
        // Runs before the inline trace's own hook (plugins are called in order).
        async didEncounterErrors({ errors }) {
          for (const error of errors) originals.set(error.extensions, error);
        },
      };
    },
  };
  const inlineTrace = ApolloServerPluginInlineTrace({
    includeErrors: {
      transform(copy) {
        const error = originals.get(copy.extensions) ?? copy;
        const shown = formatError(error.toJSON(), error);
        return new GraphQLError(shown.message, { extensions: shown.extensions });
      },
    },
  });
  return [remember, inlineTrace];
}
