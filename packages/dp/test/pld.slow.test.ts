/**
 * Slow PLD checks (excluded from the default run): Opacus's whole PRV grid (42 rows, up to 1e5 steps) and all
 * TF Privacy PLD rows.
 */
import { describe, expect, it } from 'vitest';
import { PldAccountant, computeEpsilon, gaussianEvent, poissonSampledEvent } from '../src/accountant/index.ts';
import { expectRelClose } from '../../../test/support/stats.ts';
import v from './vectors/accountant-pld.json' with { type: 'json' };

describe('PLD accountant, full reference grids (slow)', () => {
  it('lands in [PRV - 0.01 - 1%, PRV] on every row of the Opacus PRV grid', () => {
    const { delta, epsError, relTolerance, absSlack, cases } = v.opacusPrvGrid;
    for (const [sigma, q, steps, ref] of cases) {
      const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate: q, steps, delta, accountant: 'pld' });
      expect(eps, `(${sigma}, ${q}, ${steps})`).toBeLessThanOrEqual(ref * (1 + 1e-6));
      expect(eps, `(${sigma}, ${q}, ${steps})`).toBeGreaterThanOrEqual((ref - epsError) * (1 - relTolerance) - absSlack);
    }
  });

  it('reproduces every TF Privacy example-level PLD row within 1%', () => {
    for (const c of v.tfExamplePrivacyPld.cases) {
      const base = gaussianEvent(c.noiseMultiplier);
      const event = c.sampleRate === null ? base : poissonSampledEvent(c.sampleRate, base);
      expectRelClose(new PldAccountant().compose(event, c.count).getEpsilon(1e-5), c.epsilon, v.tfExamplePrivacyPld.relTolerance, c.name);
    }
  });
});
