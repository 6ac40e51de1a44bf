import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';

import { SETTINGS_PAGE_PATH } from './settings-page-path';

export { SETTINGS_PAGE_PATH };

/**
 * The page's build (web/, by Vite, into dist/web): found from this module whether it runs from
 * src/ (tests) or dist/src/ (the service).
 */
function builtPage(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'web');
}

/**
 * What the page may load and reach: scripts, styles and API calls of this origin only; no framing,
 * no referrer (the token is in the address's fragment, which browsers never send, and leaves it
 * at once).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The page at SETTINGS_PAGE_PATH (`?organization=<id>#token=<jwt>`) and its hashed assets below it.
 * The HTML is revalidated on every load, the assets (named by their content) cached for good.
 * When the page was not built, a 503 says how to build it.
 */
export function settingsPage(root = builtPage()): Router {
  const router = Router();
  const index = path.join(root, 'index.html');
  const page: RequestHandler = (_req, res) => {
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The settings page is not built: run `npm run build`.\n');
      return;
    }
    res.set({ ...HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.send(readFileSync(index));
  };
  router.get(SETTINGS_PAGE_PATH, page);
  router.get(`${SETTINGS_PAGE_PATH}/`, page);
  router.use(
    `${SETTINGS_PAGE_PATH}/assets`,
    express.static(path.join(root, 'assets'), {
      index: false,
      fallthrough: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => {
        for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
      },
    }),
  );
  return router;
}
