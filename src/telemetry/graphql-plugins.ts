import type { ApolloServerPlugin, BaseContext, GraphQLRequest } from '@apollo/server';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { GraphQLError } from 'graphql';
import { formatError } from '../errors';
import { onePlugin, type RequestPlugin } from '../request-plugins';
import type { Metrics } from './metrics';

/** Counts each GraphQL request with its operation, its duration and the codes of the errors it answered. */
export function metricsPlugin(metrics: Metrics): RequestPlugin<BaseContext> {
  return {
    requestDidStart() {
      const started = performance.now();
      return {
        willSendResponse({ operation, operationName, response }) {
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
  const remember = onePlugin<BaseContext>([
    {
      requestDidStart({ request }) {
        if (!asksForTrace(request)) return;
        return {
          // Runs before the inline trace's own hook (plugins are called in order).
          didEncounterErrors({ errors }) {
            for (const error of errors) originals.set(error.extensions, error);
          },
        };
      },
    },
  ]);
  const inlineTrace = ApolloServerPluginInlineTrace({
    includeErrors: {
      transform(copy) {
        const error = originals.get(copy.extensions) ?? copy;
        const shown = formatError(error.toJSON(), error);
        return new GraphQLError(shown.message, { extensions: shown.extensions });
      },
    },
  });
  return [
    remember,
    // Apollo's plugin makes a trace builder for every request before it looks at the header: asked
    // only for the requests that want a trace. The same plugin otherwise (its internal id
    // included, which keeps Apollo from installing its own unmasked one for a subgraph).
    // Apollo awaits what requestDidStart returns: nothing, without a promise, is as good.
    {
      ...inlineTrace,
      requestDidStart: ((requestContext) => (asksForTrace(requestContext.request) ? inlineTrace.requestDidStart?.(requestContext) : undefined)) as ApolloServerPlugin['requestDidStart'],
    },
  ];
}

const asksForTrace = (request: GraphQLRequest) => request.http?.headers.get('apollo-federation-include-trace') === 'ftv1';
