// The `browser` export condition: a bundle for a browser gets a module whose exports exist (the bundle builds)
// and whose every use throws a TypeError that says @ppml/smpc needs Node.js, instead of failing deep inside
// with `process is not defined`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('@ppml/smpc in a browser bundle', () => {
  it('resolves the browser condition to a module that names the problem on every use', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: { '.': Record<string, string> };
    };
    expect(pkg.exports['.'].browser).toBe('./dist/browser.js'); // compiled from src/browser.ts
    const real = await import('../src/index.ts');
    const browser = (await import('../src/browser.ts')) as Record<string, unknown>;
    // Every runtime export of the real entry exists in the browser entry.
    for (const name of Object.keys(real)) expect(browser, name).toHaveProperty(name);
    const S = browser.SmpcSession as { start(o: unknown): Promise<unknown>; connect(o: unknown): Promise<unknown> };
    await expect(S.start({ parties: 3 })).rejects.toThrow(/^@ppml\/smpc needs Node\.js: /);
    await expect(S.connect({})).rejects.toThrow(TypeError);
    expect(() => (browser.generateIdentity as () => unknown)()).toThrow(/@ppml\/smpc needs Node\.js/);
    await expect((browser.startDealer as () => Promise<unknown>)()).rejects.toThrow(/needs Node\.js/);
  });
});
