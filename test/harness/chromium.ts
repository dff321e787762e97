/**
 * Browser harness: Debian's Chromium driven by playwright-core, for end-to-end tests of pages and
 * elements. playwright-core never downloads a browser; when /usr/bin/chromium is missing the
 * harness installs the Debian package once (apt-get, as root).
 */
import { chromium, type Browser, type Page } from 'playwright-core';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.mjs';
import { ensureDebianPackages } from './debian-packages.js';

export { CHROMIUM_ARGS, CHROMIUM_PATH };

/**
 * Returns the path of Chromium, installing Debian's `chromium` package first when the binary is
 * missing. Safe to call from every test file: the install happens once (test/harness/debian-packages.ts).
 */
export async function ensureChromium(): Promise<string> {
  await ensureDebianPackages([CHROMIUM_PATH], ['chromium']);
  return CHROMIUM_PATH;
}

/** Launches headless Chromium (installing it first if needed) with the project's flags. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 60_000,
  });
}

/** Problems a page reported: console errors and uncaught exceptions. */
export interface PageProblems {
  /** Console messages of type "error" (CSP violations and failed loads land here too). */
  readonly consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections in the page. */
  readonly pageErrors: string[];
  /** Both, one line each, for an assertion message. */
  all(): string[];
}

/** Starts collecting a page's console errors and page errors (call before navigating). */
export function watchPage(page: Page): PageProblems {
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url, lineNumber } = message.location();
    consoleErrors.push(`${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
  return {
    consoleErrors,
    pageErrors,
    all: () => [
      ...consoleErrors.map((text) => `console: ${text}`),
      ...pageErrors.map((text) => `pageerror: ${text}`),
    ],
  };
}
