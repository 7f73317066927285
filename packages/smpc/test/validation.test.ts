// Bad input is rejected on the coordinating thread, before any party sees it, with built-in error classes and
// messages that name the parameter: NaN, values beyond the fixed-point range, shape mismatches, unknown party
// ids, foreign or freed handles, bad options.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmpcSession } from '../src/index.ts';

describe('argument validation', () => {
  let s: SmpcSession;
  let other: SmpcSession;
  beforeAll(async () => {
    [s, other] = await Promise.all([SmpcSession.start({ parties: 2 }), SmpcSession.start({ parties: 2 })]);
  });
  afterAll(async () => {
    await Promise.all([s.close(), other.close()]);
  });

  it('rejects bad session options', async () => {
    await expect(SmpcSession.start({ parties: 1 })).rejects.toThrow(/parties must be an integer in \[2, 16\], got 1/);
    await expect(SmpcSession.start({ parties: 2.5 })).rejects.toThrow(RangeError);
    await expect(SmpcSession.start({ parties: 4, protocol: 'replicated' })).rejects.toThrow(
      /parties must be 3 for the replicated protocol/,
    );
    await expect(SmpcSession.start({ parties: 3, protocol: 'shamir' as 'additive' })).rejects.toThrow(/protocol must be/);
    await expect(SmpcSession.start({ parties: 3, fractionalBits: 40 })).rejects.toThrow(/fractionalBits must be an integer in \[8, 20\]/);
    await expect(SmpcSession.start({ parties: 3, timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a number in \[1, 2147483647\]/);
    await expect(SmpcSession.start(null as unknown as { parties: number })).rejects.toThrow(TypeError);
    await expect(SmpcSession.start({ parties: 2, faultInjection: { party: 3, operation: 'mul', kind: 'hang' } })).rejects.toThrow(
      /faultInjection.party must be a party id in \[0, 1\]/,
    );
    await expect(
      SmpcSession.start({ parties: 2, faultInjection: { party: 0, operation: 'mul', kind: 'explode' as 'hang' } }),
    ).rejects.toThrow(/faultInjection.kind/);
  });

  it('rejects NaN, infinities, non-numbers and values beyond the fixed-point range', async () => {
    await expect(s.share(0, [1, Number.NaN])).rejects.toThrow(/values\[1\] must be a finite number, got NaN/);
    await expect(s.share(0, [Infinity])).rejects.toThrow(RangeError);
    await expect(s.share(0, ['1' as unknown as number])).rejects.toThrow(TypeError);
    await expect(s.share(0, [40_000])).rejects.toThrow(/values\[0\] must have \|x\| <= 1024/); // the default maxAbs at 16 bits
    await expect(s.share(0, [])).rejects.toThrow(/must not be empty/);
    const x = await s.share(0, [1, 2]);
    expect(() => s.mulPublic(x, Number.NaN)).toThrow(RangeError);
    expect(() => s.addPublic(x, [1, 2, 3])).toThrow(/values must have 1 or 2 elements, got 3/);
    expect(() => s.lessThan(x, 1e9)).toThrow(RangeError);
  });

  it('rejects unknown party ids', async () => {
    await expect(s.share(2, [1])).rejects.toThrow(/owner must be a party id in \[0, 1\], got 2/);
    await expect(s.share(-1, [1])).rejects.toThrow(RangeError);
    await expect(s.share(0.5, [1])).rejects.toThrow(RangeError);
    const x = await s.share(1, [1]);
    await expect(s.revealTo(5, x)).rejects.toThrow(/party must be a party id in \[0, 1\], got 5/);
  });

  it('rejects shape mismatches', async () => {
    await expect(s.share(0, [1, 2, 3], [2, 2])).rejects.toThrow(/shape must be \[rows, cols\] with rows \* cols = 3/);
    const a = await s.share(0, [1, 2, 3, 4, 5, 6], [2, 3]);
    const b = await s.share(1, [1, 2, 3, 4, 5, 6], [3, 2]);
    expect(() => s.add(a, b)).toThrow(/a and b must have the same shape \(or one must be 1 x 1\), got 2x3 and 3x2/);
    expect(() => s.mul(a, b)).toThrow(RangeError);
    expect(() => s.lessThan(a, b)).toThrow(RangeError);
    expect(() => s.matmul(a, a)).toThrow(/a.cols must equal b.rows, got 2x3 and 2x3/);
    expect(() => s.concatRows([a, b])).toThrow(/every tensor must have 3 columns, got 2/);
    expect(() => s.sliceRows(a, 1, 5)).toThrow(RangeError);
    expect(() => s.reshape(a, 4, 2)).toThrow(/rows \* cols must equal 6/);
    expect(() => s.sum(a, 2 as 0)).toThrow(/axis must be 0, 1 or undefined/);
    // A 1 x 1 operand broadcasts.
    const k = await s.share(1, [10]);
    expect([...(await s.reveal(s.add(a, k)))]).toEqual([11, 12, 13, 14, 15, 16]);
  });

  it('rejects handles that are not tensors, belong to another session, or were freed', async () => {
    const x = await s.share(0, [1]);
    const y = await other.share(0, [1]);
    expect(() => s.add(x, {} as typeof x)).toThrow(/b must be a SecretTensor/);
    expect(() => s.add(x, y)).toThrow(/b belongs to another session/);
    s.free(x);
    expect(() => s.neg(x)).toThrow(/x was freed/);
    await expect(s.reveal(x)).rejects.toThrow(/x was freed/);
  });

  it('rejects bad preprocessing plans', async () => {
    await expect(s.preprocess({ mul: -1 })).rejects.toThrow(/plan.mul must be an integer in \[0, 16777216\]/);
    await expect(s.preprocess({ lessThan: 0.5 })).rejects.toThrow(RangeError);
  });
});
