/**
 * The RDP accountant caches each event's curve: composing the same event again (the trainer's per-step call)
 * must give exactly what a fresh accountant computes for the whole history, whichever way the event arrives
 * (the frozen object, an equal plain object parsed from a ledger, inside a clone).
 */
import { describe, expect, it } from 'vitest';
import {
  composedEvent,
  epsilonDeltaEvent,
  gaussianEvent,
  laplaceEvent,
  poissonSampledEvent,
  selfComposedEvent,
} from '../src/accountant/events.ts';
import { RdpAccountant } from '../src/accountant/rdp-accountant.ts';

describe('RdpAccountant curve cache', () => {
  it('repeated composition equals one self-composed event computed from scratch', () => {
    const step = poissonSampledEvent(0.1, gaussianEvent(1.1));
    const cached = new RdpAccountant();
    for (let i = 0; i < 20; i++) cached.compose(step);
    cached.compose(JSON.parse(JSON.stringify(step)), 5); // same parameters, another object
    const fresh = new RdpAccountant().compose(selfComposedEvent(poissonSampledEvent(0.1, gaussianEvent(1.1)), 25));
    const a = cached.rdp;
    const b = fresh.rdp;
    for (let k = 0; k < a.length; k++) expect(a[k]).toBeCloseTo(b[k], 12);
    expect(cached.getEpsilon(1e-5)).toBeCloseTo(fresh.getEpsilon(1e-5), 12);
  });

  it('keeps different events apart, scales the approximate part by count and is shared by clones', () => {
    const mixed = composedEvent([laplaceEvent(2), epsilonDeltaEvent(0.1, 1e-7)]);
    const acc = new RdpAccountant().compose(mixed, 3).compose(gaussianEvent(2)).compose(gaussianEvent(3));
    const clone = acc.clone().compose(mixed);
    const expected = new RdpAccountant().compose(selfComposedEvent(mixed, 3)).compose(composedEvent([gaussianEvent(2), gaussianEvent(3)]));
    expect(acc.getEpsilon(1e-5)).toBeCloseTo(expected.getEpsilon(1e-5), 12);
    expect(acc.getDelta(2)).toBeCloseTo(expected.getDelta(2), 14);
    expect(clone.getEpsilon(1e-5)).toBeCloseTo(
      new RdpAccountant().compose(selfComposedEvent(mixed, 4)).compose(gaussianEvent(2)).compose(gaussianEvent(3)).getEpsilon(1e-5),
      12,
    );
    // a rejected event is not cached as supported
    expect(() => acc.compose(poissonSampledEvent(0.1, epsilonDeltaEvent(1, 1e-3)), 1)).not.toThrow();
    const replace = new RdpAccountant({ neighboringRelation: 'replace-one' });
    expect(() => replace.compose(poissonSampledEvent(0.1, gaussianEvent(1)))).toThrow(RangeError);
    expect(() => replace.compose(poissonSampledEvent(0.1, gaussianEvent(1)))).toThrow(RangeError);
  });
});
