/**
 * Slow calibration checks (excluded from the default run): calibration with the PLD accountant.
 */
import { describe, expect, it } from 'vitest';
import { calibrateNoiseMultiplier, computeEpsilon } from '../src/accountant/index.ts';

describe('calibrateNoiseMultiplier with PLD (slow)', () => {
  it('works with the PLD accountant: never overshoots, and needs less noise than RDP', () => {
    const o = { targetEpsilon: 3, delta: 1e-5, sampleRate: 0.02, steps: 500, epsilonTolerance: 0.01 } as const;
    const sPld = calibrateNoiseMultiplier({ ...o, accountant: 'pld' });
    const sRdp = calibrateNoiseMultiplier({ ...o, accountant: 'rdp' });
    const e = computeEpsilon({ noiseMultiplier: sPld, sampleRate: o.sampleRate, steps: o.steps, delta: o.delta, accountant: 'pld' });
    expect(e).toBeLessThanOrEqual(o.targetEpsilon);
    expect(sPld).toBeLessThan(sRdp);
  });

  it('reproduces the PLD side of Opacus test_get_noise_multiplier_rdp_epochs within the RDP value', () => {
    const sigma = calibrateNoiseMultiplier({ targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04, epochs: 90, accountant: 'pld' });
    expect(sigma).toBeLessThan(1.416);
    const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate: 0.04, steps: 2250, delta: 1e-5, accountant: 'pld' });
    expect(eps).toBeLessThanOrEqual(8);
    expect(8 - eps).toBeLessThanOrEqual(0.01);
  });
});
