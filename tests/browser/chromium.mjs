// Shared by the browser tests: Debian's chromium driven by playwright-core.
//   PTJS_CHROMIUM            the browser (default /usr/bin/chromium)
//   PTJS_BROWSER_REQUIRED=1  a missing browser or playwright-core fails instead of skipping
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export const CHROMIUM = process.env.PTJS_CHROMIUM || '/usr/bin/chromium';

// Why the browser tests cannot run here, or null. Throws under PTJS_BROWSER_REQUIRED=1.
export function browserMissing() {
  let why = null;
  if (!existsSync(CHROMIUM)) {
    why = `no chromium at ${CHROMIUM} (apt install chromium, or set PTJS_CHROMIUM)`;
  } else {
    try {
      createRequire(import.meta.url).resolve('playwright-core');
    } catch {
      why = 'playwright-core is not installed (npm ci --prefix tests/browser)';
    }
  }
  if (why && process.env.PTJS_BROWSER_REQUIRED === '1') throw new Error(why);
  return why;
}

// A headless chromium (as root in CI: no sandbox).
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}
