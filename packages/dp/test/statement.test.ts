/** The privacy statement reproduces TF Privacy's compute_dp_sgd_privacy_statement character for character. */
import { describe, expect, it } from 'vitest';
import { DP_ACCOUNTING_RDP_ORDERS, privacyStatement } from '../src/accountant/index.ts';
import v from './vectors/accountant-misc.json' with { type: 'json' };

describe('privacyStatement', () => {
  const input = v.statement.inputs;
  for (const c of v.statement.cases) {
    it(`matches TF Privacy ${c.test}`, () => {
      const s = privacyStatement({
        ...input,
        accountant: c.accountant as 'rdp' | 'pld',
        maxExamplesPerUser: 'maxExamplesPerUser' in c ? c.maxExamplesPerUser : undefined,
        orders: DP_ACCOUNTING_RDP_ORDERS,
        details: false,
      });
      expect(s).toBe(c.expected);
    });
  }

  it('states the accountant, orders, conversion, sampling, relation and delta in its details', () => {
    const s = privacyStatement({
      noiseMultiplier: 1.1,
      datasetSize: 60000,
      batchSize: 256,
      epochs: 10,
      delta: 1e-5,
      accountant: 'rdp',
    });
    for (const line of s.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    const flat = s.replace(/\s+/g, ' ');
    expect(flat).toMatch(/without microbatching/);
    expect(flat).toMatch(/151 orders from 1\.1 to 63 \(Opacus's default list/);
    expect(flat).toMatch(/Balle et al\. 2020/);
    expect(flat).toMatch(/Neighbouring relation: add-or-remove-one/);
    expect(flat).toMatch(/each example included independently with probability/);
    expect(flat).toMatch(/delta = 1e-05/);
    expect(flat).toMatch(/2344 steps/);
  });

  it('accepts steps and sampleRate instead of epochs and batch size', () => {
    const s = privacyStatement({ noiseMultiplier: 1, sampleRate: 0.01, steps: 1000, delta: 1e-6, accountant: 'rdp' });
    const flat = s.replace(/\s+/g, ' ');
    expect(flat).toMatch(/for 10\.0 epochs/);
    expect(flat).toMatch(/1000 steps/);
  });
});
