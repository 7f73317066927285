// Headless Chromium for the browser tests and the benchmark: Debian's `chromium` driven by playwright-core
// (nothing can download a browser build), a fresh profile per launch, no network beyond what the page asks
// for on loopback.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Where Debian (and Ubuntu's chromium deb) installs the browser; `CHROMIUM` overrides. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env['CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  return candidates.find((p) => existsSync(p));
}

/** A launched browser and its throwaway profile; `close()` is idempotent. */
export interface LaunchedBrowser {
  /** The browser's one context (a persistent context on the fresh profile). */
  readonly browser: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh `--user-data-dir` (playwright passes the profile directory as that flag).
 * @example
 * ```ts
 * const { browser, close } = await launchChromium();
 * ```
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined)
    throw new Error("Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM");
  const profile = mkdtempSync(join(tmpdir(), 'ppml-chromium-'));
  let browser: BrowserContext;
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (e) {
    // A browser that fails to start leaves no profile behind.
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  let closed = false;
  return {
    browser,
    close: async () => {
      if (closed) return;
      closed = true;
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
