import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import express, { type ErrorRequestHandler } from 'express';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { type Authentication, createAuthenticator } from './auth/authentication';
import type { Config } from './config';
import { createRequestContext, type RequestContext } from './context';
import { checkReadiness, healthOf, isRetryLater, serviceUnavailablePlugin } from './database/health';
import { INTERNAL_ERROR_MESSAGE, formatError, isUnexpected } from './errors';
import { graphqlIde } from './graphql-ide';
import { settingsPage } from './settings-page';
import { ANONYMOUS_BODY_LIMIT_BYTES, RequestRefused, createHttpServer, jsonBody, listen, requireRouterSecret } from './http-limits';
import type { Logger } from './logger';
import { requestLogging } from './request-log';
import { onErrorsOnly, onePlugin, type RequestListener, type RequestPlugin } from './request-plugins';
import { buildFederatedSchema } from './schema';
import { createServices, type RoutingOptions, type Services } from './services';
import { callerGoneSignal, delay, shutdownPlan } from './stopping';
import { poolOf } from './database/data-source';
import { federatedTraces, metricsPlugin } from './telemetry/graphql-plugins';
import { metrics } from './telemetry/metrics';
import { isPolled, pathOf, searchOf } from './request-target';
import { currentTracing } from './telemetry/tracing-slot';
import { UPLOAD_MAX_BYTES } from './uploads/file-upload.service';

/** Limits on what one GraphQL document may ask; the numbers are never told to clients. */
const armor = new ApolloArmor({
  maxDepth: { n: 12, exposeLimits: false, ignoreIntrospection: true },
  costLimit: { maxCost: 20_000, exposeLimits: false, ignoreIntrospection: true },
  maxAliases: { n: 20, exposeLimits: false },
  maxDirectives: { n: 30, exposeLimits: false },
  // Tokens are limited by graphql's own parser (parseOptions below): armor's limit parses the
  // document a second time, in a hook whose errors, a plain syntax error among them, become 500s.
  maxTokens: { enabled: false },
  blockFieldSuggestion: { enabled: true },
});

const MAX_TOKENS = 3_000;

/** Room for the largest upload (base64 takes 4 bytes for 3) and the rest of its request. */
export const JSON_BODY_LIMIT_BYTES = Math.ceil((UPLOAD_MAX_BYTES * 4) / 3) + 1024 * 1024;

export interface AppOptions {
  config: Config;
  dataSource: DataSource;
  logger: Logger;
  /**
   * A server already listening (start-up binds the port before opening the database), and the
   * listener that answered on it meanwhile, which the app replaces; else a server is made.
   */
  httpServer?: { server: http.Server; startingListener: http.RequestListener };
  /** Tests only (start-up never passes them): another model catalog, a clock they move. */
  routing?: RoutingOptions;
  /** The services and schema, made beforehand (start-up makes them while the database opens); else made here. */
  schema?: AppSchema;
}

/** What the app is made of that needs no database: the services and the executable schema. */
export interface AppSchema {
  services: Services;
  schema: GraphQLSchema;
}

/** Builds the services and the federated schema (type-graphql, federation, permissions): about a third of a second. */
export async function buildAppSchema(config: Config, routing?: RoutingOptions): Promise<AppSchema> {
  const services = createServices(config, routing);
  return { services, schema: await buildFederatedSchema(services) };
}

export interface App {
  /** Listens on the port (0: any free one); resolves to the URL of /graphql. */
  listen(port: number, host?: string): Promise<string>;
  /** Readiness answers 503 from now on (the first step of stopping); requests are still served. */
  markStopping(): void;
  /**
   * Stops (src/stopping.ts): readiness 503, requests still taken for the drain delay, then the
   * listener closed and requests in flight finished, runs still going after the grace interrupted
   * and answered; resolves when the server is closed and every run is written. Calling it again
   * answers the same promise.
   */
  stop(): Promise<void>;
}

/** Logs every unexpected error with the request id; the client sees only INTERNAL_SERVER_ERROR. */
const unexpectedErrorListener: RequestListener<RequestContext> = {
  didEncounterErrors({ errors, contextValue, logger, operationName }) {
    const log = contextValue?.log ?? logger;
    for (const error of errors) {
      if (!isUnexpected(error)) continue;
      const cause = error.originalError ?? error;
      log.error({ err: cause, path: error.path, operationName }, 'unexpected error');
    }
  },
};
const unexpectedErrorLogging: RequestPlugin<RequestContext> = { requestDidStart: () => unexpectedErrorListener };

/**
 * Where an error stands in the document: list items by index, fields by their place in the query.
 * A deterministic order, whatever order the fields' checks ended in.
 */
function inDocumentOrder(a: GraphQLFormattedError, b: GraphQLFormattedError): number {
  const [pathA, pathB] = [a.path ?? [], b.path ?? []];
  for (let i = 0; i < Math.min(pathA.length, pathB.length); i++) {
    if (pathA[i] === pathB[i]) continue;
    if (typeof pathA[i] === 'number' && typeof pathB[i] === 'number') return (pathA[i] as number) - (pathB[i] as number);
    break;
  }
  const [at, bt] = [a.locations?.[0], b.locations?.[0]];
  if (at && bt && (at.line !== bt.line || at.column !== bt.column)) return at.line - bt.line || at.column - bt.column;
  return pathA.length - pathB.length;
}

/**
 * A response's errors in document order. graphql-js lists them in the order the fields failed,
 * and permission checks end in an order that depends on what they read: an entity the caller may
 * not see and an unknown id (DESIGN.md section 2) must not be told apart by it.
 */
const errorsInDocumentOrderListener: RequestListener<RequestContext> = {
  willSendResponse({ response }) {
    if (response.body.kind !== 'single') return;
    const { singleResult } = response.body;
    if (singleResult.errors && singleResult.errors.length > 1) singleResult.errors = [...singleResult.errors].sort(inDocumentOrder);
  },
};
const errorsInDocumentOrder: RequestPlugin<RequestContext> = { requestDidStart: () => errorsInDocumentOrderListener };

/**
 * Errors before GraphQL starts (a body that is not JSON, or too large) answer as GraphQL errors
 * do, in JSON with a code; express's own page would show a stack outside production. Written with
 * Node's own response methods: POST /graphql is answered without Express (createApp).
 */
function answerRequestError(error: unknown, req: http.IncomingMessage, res: http.ServerResponse): void {
  const answer = (status: number, code: string, message: string) => {
    if (res.headersSent) {
      // Too late for an answer of its own: the client sees the connection end.
      res.destroy();
      return;
    }
    const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  };
  if (error instanceof RequestRefused) {
    metrics().error(error.code);
    answer(error.status, error.code, error.message);
    return;
  }
  // What express itself refuses (a malformed URI, …): a client error, never with its stack.
  const given = (error as { status?: unknown } | undefined)?.status;
  const status = typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
  if (status === 500) req.log.error({ err: error }, 'unexpected error');
  const code = status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
  metrics().error(code);
  answer(status, code, status < 500 ? 'The request is malformed' : INTERNAL_ERROR_MESSAGE);
}

const requestErrors: ErrorRequestHandler = (error, req, res, _next) => answerRequestError(error, req, res);

/**
 * A POST to /graphql itself (the path exactly, with or without a query string): what the router
 * sends, answered without Express (createApp). Any other request, a GET of /graphql or a POST of
 * `/graphql/` among them, goes to the Express app.
 */
const isGraphQLPost = (req: http.IncomingMessage) => req.method === 'POST' && pathOf(req.url ?? '') === '/graphql';

/**
 * Answers a request whose body is read (req.body) with Apollo, as @as-integrations/express5 does,
 * with Node's own response methods: a string body with its length, or a stream of chunks.
 */
async function answerGraphQL(apollo: ApolloServer<RequestContext>, context: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<RequestContext>, req: http.IncomingMessage & { body?: unknown }, res: http.ServerResponse): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? 'POST').toUpperCase(), headers, search: searchOf(req.url ?? ''), body: req.body },
    context: () => context(req, res),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status || 200;
  if (response.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}


export async function createApp({ config, dataSource, logger, httpServer: given, routing, schema: prepared }: AppOptions): Promise<App> {
  const { services, schema } = prepared ?? (await buildAppSchema(config, routing));
  const health = healthOf(dataSource, logger);
  const authenticate = createAuthenticator(config.auth);
  const app = express();
  app.disable('x-powered-by');
  // The request id, the request's logger and its last line, before Express: as a layer of the app
  // it cost the router, and with tracing the Express instrumentation, their bookkeeping on every request.
  const logging = requestLogging(logger, {
    ignore: (req) => isPolled(req.url),
    // A 503 with Retry-After is a database outage, which the outage log counts instead.
    level: (res, error) => (isRetryLater(res) ? 'debug' : error || res.statusCode >= 500 ? 'error' : 'info'),
  });
  // POST /graphql (what the router sends) is answered without Express (answerGraphQLPost below):
  // its router and response methods, and with tracing the Express instrumentation's bookkeeping
  // of each layer, cost every request more than the rest of what it does before Apollo.
  let answerGraphQLPost: http.RequestListener | undefined;
  const serve: http.RequestListener = (req, res) => logging(req, res, () => (answerGraphQLPost && isGraphQLPost(req) ? answerGraphQLPost(req, res) : app(req, res)));
  const httpServer = given?.server ?? createHttpServer(config.http, serve);
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const plan = shutdownPlan(config);

  const protection = armor.protect();
  const apollo = new ApolloServer<RequestContext>({
    schema,
    logger,
    introspection: config.graphql.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    // main.ts owns the signals and the order of shutdown (HTTP first, then the database).
    stopOnTerminationSignals: false,
    formatError,
    validationRules: protection.validationRules,
    plugins: [
      // One listener per request for all of these (src/request-plugins.ts), in this order.
      onePlugin<RequestContext>([
        // graphql-armor's: "Did you mean …" suggestions masked in error messages.
        ...protection.plugins.map((plugin) => onErrorsOnly<RequestContext>(plugin)),
        unexpectedErrorLogging,
        errorsInDocumentOrder,
        // Database timeouts and outages: SERVICE_UNAVAILABLE, 503 when nothing was answered, counted.
        serviceUnavailablePlugin(health),
        // Requests, their duration and their errors' codes (src/telemetry/metrics.ts).
        metricsPlugin(metrics()),
      ]),
      // Connections still open a little after the grace are cut, once interrupted runs had time to answer.
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: plan.cutAfterMs }),
      // ftv1 inline traces for the gateway, their errors masked as the response masks them.
      ...federatedTraces(),
      // The schema sets no cache hints; the plugin would still run a hook on every field resolved.
      ApolloServerPluginCacheControlDisabled(),
      // No Apollo Sandbox (it loads from a CDN): outside production graphqlIde() serves GraphiQL.
      ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Prometheus text; like the health routes, not behind the router secret.
  const unwatchPool = metrics().watchPool(poolOf(dataSource));
  app.get('/metrics', async (_req, res) => {
    const text = await metrics().text();
    res.setHeader('content-type', metrics().contentType);
    res.end(text);
  });

  app.get('/readyz', async (_req, res) => {
    if (stopping) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    // Its own short check (src/database/readiness.ts): never waits behind the pool.
    const { status } = await checkReadiness(health);
    res.status(status === 'ready' ? 200 : 503).json({ status });
  });

  if (!config.isProduction) app.get('/graphql', graphqlIde());
  // The Models settings page: outside production, and in production only with SETTINGS_PAGE=true (a 404 otherwise).
  if (config.settingsPage) app.use(settingsPage());
  const routerSecret = config.routerSecret ? requireRouterSecret(config.routerSecret) : undefined;
  if (routerSecret) app.use('/graphql', routerSecret);
  else if (config.isProduction) logger.warn('ROUTER_SECRET is unset: anyone who reaches this service can call it, not only the router');
  // The token is checked before the body is read: without a valid one, a body may hold 64 KiB.
  const authenticatedBody = jsonBody(JSON_BODY_LIMIT_BYTES);
  const anonymousBody = jsonBody(ANONYMOUS_BODY_LIMIT_BYTES);
  const authentications = new WeakMap<http.IncomingMessage, Authentication>();
  const contextOf = async (req: http.IncomingMessage, res: http.ServerResponse) =>
    createRequestContext(
      dataSource,
      services.catalog,
      authentications.get(req) ?? (await authenticate(req.headers.authorization, () => req.log)),
      String(req.id),
      () => req.log,
      () => callerGoneSignal(res),
    );
  const graphql = expressMiddleware(apollo, { context: ({ req, res }) => contextOf(req, res) });
  /** The token, then the body with the limit the token allows; `done` with what refused them. */
  const readRequest = (req: http.IncomingMessage, res: http.ServerResponse, done: (error?: unknown) => void) => {
    authenticate(req.headers.authorization, () => req.log)
      .then((authentication) => {
        authentications.set(req, authentication);
        // The body's last event runs in the connection's context: what follows, in the request's.
        const resume = currentTracing()?.bound(done) ?? done;
        (authentication.principal ? authenticatedBody : anonymousBody)(req as express.Request, res as express.Response, resume);
      })
      .catch(done);
  };
  // The token, the body, then Apollo, in one layer: each layer costs the router, and with tracing
  // the Express instrumentation, its own bookkeeping for every request.
  app.use('/graphql', (req, res, next) => {
    readRequest(req, res, (error) => {
      if (error) next(error);
      // As the router would treat the layer's promise: a rejection goes to the error handler.
      else Promise.resolve(graphql(req, res, next)).catch(next);
    });
  });
  // The same, for POST /graphql without Express: the router secret, the token, the body, Apollo.
  answerGraphQLPost = (req, res) => {
    // The span's route, as the Express instrumentation names it for a request Express routes.
    currentTracing()?.route('/graphql');
    const failed = (error: unknown) => answerRequestError(error, req, res);
    const read = () => readRequest(req, res, (error) => (error ? failed(error) : answerGraphQL(apollo, contextOf, req, res).catch(failed)));
    if (routerSecret) routerSecret(req as express.Request, res as express.Response, (error?: unknown) => (error ? failed(error) : read()));
    else read();
  };
  app.use(requestErrors);
  // What answered while the app was starting gives way to it.
  if (given) {
    // Only that listener: the drain plugin has one of its own that counts requests in flight.
    httpServer.removeListener('request', given.startingListener);
    httpServer.on('request', serve);
  }

  return {
    async listen(port, host) {
      if (!httpServer.listening) await listen(httpServer, port, host);
      const { port: bound } = httpServer.address() as AddressInfo;
      const shown = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      return `http://${shown}:${bound}/graphql`;
    },
    markStopping() {
      stopping = true;
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Load balancers see readiness fail and stop sending; what they still send is served.
        await delay(plan.drainMs);
        const interrupt = setTimeout(() => {
          const runs = services.runs.interrupt();
          if (runs > 0) logger.warn({ runs, graceMs: plan.graceMs }, 'runs still going at the end of the shutdown grace: interrupted, recorded FAILED');
        }, plan.graceMs);
        try {
          // The drain plugin closes the listener, waits for requests in flight, then closes idle sockets.
          await apollo.stop();
        } finally {
          clearTimeout(interrupt);
        }
        // A run whose connection was cut is still being written: the database must stay open for it.
        await services.runs.settled();
        unwatchPool();
      })();
      return stopped;
    },
  };
}
