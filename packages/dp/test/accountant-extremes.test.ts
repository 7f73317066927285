/**
 * Regression tests for the accountants at the edges of their inputs: the PLD's small-δ tail (it used to return
 * Infinity below δ ≈ 1e-14 where RDP or pure DP proves a finite bound), RDP orders (∞, absurd list lengths, huge
 * orders used as array lengths), options objects (null, unknown keys), and extreme values that used to hang
 * (checked in a child process with a watchdog, since a hang cannot be caught in-process).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  PldAccountant,
  advancedComposition,
  advancedCompositionInverse,
  dpSgdEvent,
  gaussianEvent,
  sampledWithoutReplacementEvent,
  zcdpToDelta,
  zcdpToEpsilon,
  RdpAccountant,
  calibrateNoiseMultiplier,
  computeEpsilon,
  laplaceEvent,
  privacyStatement,
  sampledGaussianRdp,
  rdpToEpsilon,
} from '../src/accountant/index.ts';

describe('PLD below delta 1e-14 never returns Infinity where another bound is finite', () => {
  it('ten Laplace(70/21) at delta 1e-20: the pure-DP bound 3, with a warning saying what to do', () => {
    const warnings: string[] = [];
    const acc = new PldAccountant({ onWarning: (m) => warnings.push(m) }).compose(laplaceEvent(70 / 21), 10);
    const eps = acc.getEpsilon(1e-20);
    expect(eps).toBeLessThanOrEqual(3 + 1e-12);
    expect(eps).toBeGreaterThan(2.9);
    expect(acc.method).toBe('pure-dp');
    expect(warnings.join('\n')).toMatch(/below the PLD's truncated tail mass.*use delta >=/);
  });

  it('DP-SGD at delta 1e-14 with the PLD accountant: the RDP bound (3.78), not Infinity', () => {
    const warnings: string[] = [];
    const common = { noiseMultiplier: 1, sampleRate: 0.0064, steps: 782, delta: 1e-14 };
    const pld = computeEpsilon({ ...common, accountant: 'pld', onWarning: (m) => warnings.push(m) });
    const rdp = computeEpsilon({ ...common, accountant: 'rdp' });
    expect(Number.isFinite(pld)).toBe(true);
    expect(pld).toBeLessThanOrEqual(rdp);
    expect(pld).toBeCloseTo(3.78, 2);
    expect(warnings.some((w) => /RDP bound/.test(w))).toBe(true);
  });
});

describe('RDP orders are checked before they are used', () => {
  const base = { noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' as const };
  it('orders: [Infinity] is a RangeError naming orders[0] (it used to report epsilon = Infinity)', () => {
    expect(() => computeEpsilon({ ...base, orders: [Infinity] })).toThrow(/orders\[0\] must be a finite number > 1, got Infinity/);
    expect(() => new RdpAccountant({ orders: [2, Infinity] })).toThrow(RangeError);
  });
  it('absurd list lengths are refused before allocation; non-numbers are TypeErrors', () => {
    const sparse = new Array(2 ** 31);
    expect(() => computeEpsilon({ ...base, orders: sparse })).toThrow(/orders must have a length in \[1, 100000\]/);
    expect(() => computeEpsilon({ ...base, orders: [2, 10n as unknown as number] })).toThrow(TypeError);
    expect(() => computeEpsilon({ ...base, orders: { length: 1e12 } as unknown as number[] })).toThrow(TypeError);
  });
});

describe('options objects', () => {
  it('a non-object options argument is reported as options', () => {
    for (const f of [
      () => computeEpsilon(null as never),
      () => calibrateNoiseMultiplier(3 as never),
      () => privacyStatement(null as never),
      () => sampledGaussianRdp(null as never),
      () => rdpToEpsilon(null as never),
      () => new RdpAccountant(null as never),
      () => new PldAccountant('x' as never),
    ]) {
      expect(f).toThrow(TypeError);
      expect(f).toThrow(/^options must be an object/);
    }
  });
  it('unknown keys are TypeErrors naming the key and the allowed ones', () => {
    const o = { noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' as const };
    expect(() => computeEpsilon({ ...o, order: [2] } as never)).toThrow(/unknown key "order".*allowed keys: noiseMultiplier/);
    expect(() =>
      calibrateNoiseMultiplier({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 10, accountant: 'rdp', tolerance: 1 } as never),
    ).toThrow(/unknown key "tolerance"/);
    expect(() => new RdpAccountant({ relation: 'replace-one' } as never)).toThrow(/unknown key "relation"/);
    expect(() => new PldAccountant({ onwarning: () => {} } as never)).toThrow(/did you mean "onWarning"/);
    expect(() =>
      privacyStatement({ noiseMultiplier: 1, delta: 1e-5, accountant: 'rdp', sampleRate: 0.1, steps: 10, microbatching: true } as never),
    ).toThrow(/unknown key "microbatching"/);
    expect(() => computeEpsilon({ ...o, onWarning: 1 } as never)).toThrow(/onWarning/);
    expect(() => dpSgdEvent({ noiseMultiplier: 1, sampleRate: 0.1, steps: 2, epochs: 1 } as never)).toThrow(/unknown key "epochs"/);
    expect(() => sampledWithoutReplacementEvent(null as never, gaussianEvent(1))).toThrow(/^options must be an object/);
    expect(() => advancedComposition({ epsilon: 1, delta: 0, count: 3, totalDelta: 0, k: 3 } as never)).toThrow(/unknown key "k"/);
    expect(() => zcdpToEpsilon({ rho: 1, delta: 1e-5, eps: 1 } as never)).toThrow(/unknown key "eps"/);
    expect(() => zcdpToDelta(null as never)).toThrow(/^options must be an object/);
  });
  it('optimal advanced composition (O(k^2)) has a stated bound on k instead of running for hours', () => {
    expect(() => advancedComposition({ epsilon: 1, delta: 0, count: 2001, totalDelta: 1e-5 })).toThrow(
      /count must be an integer in \[1, 2000\]/,
    );
    expect(() => advancedCompositionInverse({ totalEpsilon: 1, totalDelta: 1e-5, delta: 0, count: 2001 })).toThrow(RangeError);
  });
});

describe('inputs that used to hang finish in bounded time (child process, 60 s watchdog)', () => {
  it('huge sigma gives epsilon 0 at once (both accountants, compose, Laplace); huge target, tiny sigma, tiny q, 2^31 epochs are refused', () => {
    const script = fileURLToPath(new URL('./support/extremes-child.ts', import.meta.url));
    const node = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
    const r = spawnSync(node, ['--conditions=@ppml/source', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined(); // a hang shows up here as ETIMEDOUT
    expect(r.status).toBe(0);
    const out = new Map<string, string>();
    for (const line of r.stdout.trim().split('\n')) {
      const m = /^ok ([^:]+): (.*)$/.exec(line);
      if (m !== null) out.set(m[1], m[2]);
    }
    expect(out.size).toBe(12);
    // A huge order is answered by the closed-form bound α/(2σ²) at once, not used as an array length.
    expect(out.get('sampledGaussianRdp orders 2, 1e9, 2^40+0.5')).toMatch(/^value \[[0-9.e-]+,500000000,549755813888.25\]$/);
    expect(out.get('computeEpsilon orders 32, 1e9')).toMatch(/^value [0-9.]+$/);
    expect(out.get('computeEpsilon rdp sigma 1e308')).toBe('value 0');
    expect(out.get('computeEpsilon pld sigma 1e308')).toBe('value 0');
    expect(out.get('compose sigma 1e308')).toBe('value [0,0]');
    expect(out.get('pld laplace b 1e308')).toBe('value 0');
    expect(out.get('calibrate target 1.79e308')).toBe('RangeError: targetEpsilon must be a number in (0, 1000000], got 1.79e+308');
    expect(out.get('trainDpSgd sigma 1e308')).toMatch(/^RangeError: noiseMultiplier must be a number in \[0.000001, 1000000\]/);
    expect(out.get('trainDpSgd sigma 1e-320')).toMatch(/^RangeError: noiseMultiplier must be a number in \[0.000001, 1000000\]/);
    expect(out.get('trainDpSgd sampleRate 1e-320')).toMatch(/^RangeError: epochs × steps per epoch must be at most 10000000/);
    expect(out.get('trainDpSgd epochs 2^31')).toMatch(/^RangeError: epochs must be an integer in \[1, 10000000\]/);
    // sigma 1e-320: the RDP exceeds every double (ln A ~ 1e639), so Infinity is the exact double answer.
    expect(out.get('computeEpsilon sigma 1e-320')).toBe('value null');
  }, 90_000);
});
