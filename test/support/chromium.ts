import { existsSync } from 'node:fs';

/** Debian's Chromium: Playwright's own browser downloads are not available here. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Chromium 156 gives every browser window (each context of the tests) the address bar's two
  // popups, WebUI pages in a renderer of their own, which no test opens: about 0.3 s of CPU a
  // context, nearly half of what Chromium used in the suite. It ignores feature names it does not know.
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup',
];

export const haveChromium = existsSync(CHROMIUM);

/**
 * `describe` for tests that drive the browser. Skipping is for a developer's machine only: under
 * CI a missing browser fails them (their beforeAll throws).
 */
export function describeInBrowser(what: string): jest.Describe {
  if (haveChromium || process.env.CI) return describe;
  console.warn(`Skipping ${what}: ${CHROMIUM} is missing (apt-get install -y chromium).`);
  return describe.skip;
}
