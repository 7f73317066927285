/**
 * The subpaths `@ppml/dp/mechanisms`, `/accountant`, `/queries` and `/sgd`: each resolves (through the package's
 * exports map, from source), exports its part, and every name it exports is the same object at the root.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from '@ppml/dp';
import * as accountant from '@ppml/dp/accountant';
import * as mechanisms from '@ppml/dp/mechanisms';
import * as queries from '@ppml/dp/queries';
import * as sgd from '@ppml/dp/sgd';

const parts = { mechanisms, accountant, queries, sgd } as Record<string, Record<string, unknown>>;

describe('@ppml/dp subpaths', () => {
  it('each subpath is declared with the source condition, types and default', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
    };
    for (const name of Object.keys(parts)) {
      expect(pkg.exports[`./${name}`]).toEqual({
        '@ppml/source': `./src/${name}/index.ts`,
        types: `./dist/${name}/index.d.ts`,
        default: `./dist/${name}/index.js`,
      });
    }
  });

  it('each exports its part, and the root exports the same objects', () => {
    expect(typeof accountant.createAccountant).toBe('function');
    expect(typeof mechanisms.gaussianMechanism).toBe('function');
    expect(typeof queries.PrivacyBudget).toBe('function');
    expect(typeof sgd.trainDpSgd).toBe('function');
    const rootNames = root as unknown as Record<string, unknown>;
    for (const [part, mod] of Object.entries(parts)) {
      const names = Object.keys(mod);
      expect(names.length, part).toBeGreaterThan(5);
      for (const n of names) expect(rootNames[n], `${part}.${n}`).toBe(mod[n]);
    }
  });
});
