import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * The development IDE: GraphiQL as @graphql-yoga/render-graphiql bundles it, one page that inlines
 * its script, styles and editor workers, so that it works without internet. Its queries go to the
 * path it was served from (`location.pathname`), on the same origin.
 */
const IDE_OPTIONS = {
  title: 'byom-subgraph GraphiQL',
  defaultQuery: [
    '# A development token:  npm run -s token -- --sub alice',
    '# goes under Headers:  {"Authorization": "Bearer <token>"}',
    '',
    '{',
    '  viewer { userId isOperator }',
    '}',
    '',
  ].join('\n'),
  defaultEditorToolsVisibility: 'headers',
  // A bearer token is not written to the browser's storage; it lasts as long as the page.
  shouldPersistHeaders: false,
} as const;

/**
 * The browser enforces what the page may reach, whatever is typed into it: requests to its own
 * origin only, nothing loaded from anywhere else, and no framing by another site. The inline script
 * and styles are the bundle itself; the editor's workers start from blob: URLs.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  'font-src data:',
  'worker-src blob:',
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Page {
  body: Buffer;
  etag: string;
}

let page: Promise<Page> | undefined;

/** Rendered on first use: the bundle is 9 MB, and a server that nobody opens it on never loads it. */
function render(): Promise<Page> {
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => {
      const body = Buffer.from(renderGraphiQL(IDE_OPTIONS));
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
    });
    page.catch(() => {
      page = undefined; // the next request tries again
    });
  }
  return page;
}

/**
 * Answers a GET that prefers HTML (a browser) with the IDE, as Apollo Server decides for its landing
 * page; everything else goes on to the GraphQL middleware. Mount it only outside production.
 */
export function graphqlIde(): RequestHandler {
  return async (req, res, next) => {
    if (req.accepts(['application/json', 'application/graphql-response+json', 'multipart/mixed', 'text/html']) !== 'text/html') {
      next();
      return;
    }
    // Express 5 hands a rejection to the error handlers.
    const { body, etag } = await render();
    res.set({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // Revalidated on every load: a reload costs a 304, and an upgraded bundle shows at once.
      'cache-control': 'no-cache',
      etag,
    });
    res.send(body);
  };
}
