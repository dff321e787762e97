// Makes sure Debian's Chromium is installed before the browser tests (web-test-runner) start:
// the same install as the Playwright harness (test/harness/chromium.ts), loaded through tsx.
import { tsImport } from 'tsx/esm/api';

const { ensureChromium } = await tsImport('../test/harness/chromium.ts', import.meta.url);
const path = await ensureChromium();
console.error(`# chromium: ${path}`);
