// Real-browser tests (headless Debian Chromium via playwright-core): the web example's page encrypts a patient
// in the browser, the encrypted-inference service scores it, and the decrypted probability equals the plaintext
// model's; a second page runs @ppml/dp (Laplace, computeEpsilon, a small DP-SGD run) and @ppml/core from a
// browser bundle. The Laplace check's false-failure probability is below 1e-8 (6 standard errors, unseeded
// browser CSPRNG).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeEpsilon } from '@ppml/dp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../../examples/web/bundle.ts';
import { type WebExample, startWebExample } from '../../examples/web/server.ts';
import { type LaunchedBrowser, launchChromium } from './support/chromium.ts';
import { type StaticServer, serveDirectory } from './support/static.ts';

let browser: LaunchedBrowser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the web example in Chromium', () => {
  let web: WebExample;
  beforeAll(async () => {
    web = await startWebExample();
  });
  afterAll(async () => {
    await web?.close();
  });

  it('encrypts a patient in the page, the service scores it, and the decrypted probability equals plaintext', async () => {
    const page = await browser.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(web.url);
    await page.waitForSelector('#status[data-ready], #status[data-error]');
    const choice = 2;
    await page.selectOption('#patient', String(choice));
    await page.click('#predict');
    await page.waitForSelector('#status[data-done], #status[data-error]', { timeout: 30_000 });
    expect(errors).toEqual([]);
    expect(await page.getAttribute('#status', 'data-error')).toBeNull();
    const p = Number(await page.getAttribute('#probability', 'data-value'));
    // The page standardizes with the published statistics and clips to ±inputBound: the same row in plaintext.
    const z = web.scaler.transform([web.patients[choice].values])[0].map((v) => Math.max(-web.inputBound, Math.min(web.inputBound, v)));
    const plain = web.model.predict([Float64Array.from(z)])[0];
    expect(Math.abs(p - plain)).toBeLessThan(1e-4);
    expect(await page.textContent('#seen')).toMatch(/bytes of ciphertext/);
    expect(web.service.stats.predictions).toBe(1);
    await page.close();
  });
});

describe('@ppml/dp and @ppml/core in Chromium', () => {
  let dir: string;
  let server: StaticServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ppml-dp-page-'));
    await bundleForBrowser({ entry: fileURLToPath(new URL('./dp-page.ts', import.meta.url)), outdir: dir, name: 'dp-page' });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./dp-page.js"></script>');
    server = await serveDirectory(dir);
  });
  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the Laplace mechanism, computeEpsilon and a small trainDpSgd in the browser', async () => {
    const page = await browser.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => 'result' in globalThis || 'failure' in globalThis, undefined, { timeout: 30_000 });
    const failure = await page.evaluate(() => (globalThis as { failure?: string }).failure);
    expect(failure).toBeUndefined();
    expect(errors).toEqual([]);
    const r = (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as {
      draws: number[];
      epsilon: number;
      accuracy: number;
      trainedEpsilon: number;
      csv: string[][];
      readCsvError: string;
      heServerError: string;
    };
    const n = r.draws.length;
    const mean = r.draws.reduce((s, v) => s + v, 0) / n;
    const meanAbs = r.draws.reduce((s, v) => s + Math.abs(v), 0) / n;
    // Laplace(0, 1): mean 0 (sd sqrt(2/n) = 0.032), E|X| = 1 (sd 1/sqrt(n) = 0.022).
    expect(Math.abs(mean)).toBeLessThan(6 * Math.sqrt(2 / n));
    expect(Math.abs(meanAbs - 1)).toBeLessThan(6 / Math.sqrt(n));
    expect(r.epsilon).toBe(computeEpsilon({ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250, delta: 1e-5, accountant: 'rdp' }));
    expect(r.trainedEpsilon).toBeLessThanOrEqual(3);
    expect(r.accuracy).toBeGreaterThan(0.8);
    expect(r.csv).toEqual([['1', 'x,y']]);
    expect(r.readCsvError).toMatch(/^TypeError: .*file system \(Node only\)/);
    expect(r.heServerError).toMatch(/TypeError: HeServer runs in Node only/);
    await page.close();
  });
});
