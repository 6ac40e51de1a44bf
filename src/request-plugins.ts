import type {
  ApolloServerPlugin,
  BaseContext,
  GraphQLRequestContext,
  GraphQLRequestContextDidEncounterErrors,
  GraphQLRequestContextWillSendResponse,
} from '@apollo/server';

/**
 * Apollo Server calls each hook of a request (didResolveSource, didResolveOperation,
 * responseForOperation, executionDidStart, willSendResponse, …) on every listener the plugins'
 * requestDidStart returned, through Promise.all and async wrappers, whether the listener has the
 * hook or not: some twenty promises per listener per request, and an async requestDidStart one
 * more. The service's own plugins only need to hear of errors and of the response, so they are
 * made as RequestPlugins (requestDidStart not async) and joined by onePlugin into one listener.
 */

/** What a RequestPlugin's listener hears of: a request's errors, and its response before it is sent. */
export interface RequestListener<TContext extends BaseContext> {
  didEncounterErrors?(requestContext: GraphQLRequestContextDidEncounterErrors<TContext>): void | Promise<void>;
  willSendResponse?(requestContext: GraphQLRequestContextWillSendResponse<TContext>): void | Promise<void>;
}

/** A plugin whose listener is made without a promise (undefined: nothing to hear of for this request). */
export interface RequestPlugin<TContext extends BaseContext> {
  requestDidStart(requestContext: GraphQLRequestContext<TContext>): RequestListener<TContext> | undefined;
}

const settled = (results: (void | Promise<void>)[]): void | Promise<void> => {
  const pending = results.filter((result): result is Promise<void> => result instanceof Promise);
  if (pending.length > 0) return Promise.all(pending).then(() => undefined);
};

/**
 * The plugins as one Apollo Server plugin with (at most) one listener per request. Its hooks call
 * the plugins' in their order, as Apollo calls those of separate plugins: each runs until its
 * first await, then all are awaited. Errors are handed on one plugin after the other, each awaited
 * before the next (one may change what the next reads: graphql-armor's suggestion mask).
 */
export function onePlugin<TContext extends BaseContext>(plugins: RequestPlugin<TContext>[]): ApolloServerPlugin<TContext> {
  const requestDidStart = (requestContext: GraphQLRequestContext<TContext>) => {
    const listeners: RequestListener<TContext>[] = [];
    for (const plugin of plugins) {
      const listener = plugin.requestDidStart(requestContext);
      if (listener) listeners.push(listener);
    }
    if (listeners.length === 0) return undefined;
    return {
      async didEncounterErrors(context: GraphQLRequestContextDidEncounterErrors<TContext>) {
        for (const listener of listeners) await listener.didEncounterErrors?.(context);
      },
      willSendResponse: (context: GraphQLRequestContextWillSendResponse<TContext>) => settled(listeners.map((listener) => listener.willSendResponse?.(context))),
    };
  };
  // Apollo awaits what requestDidStart and the hooks return: a listener (or void) without a promise is as good.
  return { requestDidStart } as unknown as ApolloServerPlugin<TContext>;
}

/**
 * A plugin of another package (graphql-armor's) whose listener only hears of errors, called only
 * when there are errors: its async requestDidStart costs a request without errors nothing.
 */
export function onErrorsOnly<TContext extends BaseContext>(plugin: ApolloServerPlugin<TContext>): RequestPlugin<TContext> {
  const listener: RequestListener<TContext> = {
    async didEncounterErrors(context) {
      const started = await plugin.requestDidStart?.(context);
      await started?.didEncounterErrors?.(context);
    },
  };
  return { requestDidStart: () => listener };
}
