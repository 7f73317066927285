import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertDelta,
  assertEpsilon,
  assertFinite,
  assertFiniteArray,
  assertInRange,
  assertInteger,
  assertNonNegative,
  assertSameLength,
  deserializeError,
  describeValue,
  serializeError,
  toFloat64Array,
  toMatrix,
} from '../src/index.ts';

const nonFinite = fc.constantFrom(Number.NaN, Infinity, -Infinity);

describe('validation', () => {
  it('epsilon must be finite and > 0, and the message names it with the value', () => {
    expect(() => assertEpsilon(Number.NaN)).toThrow('epsilon must be a finite number > 0, got NaN');
    fc.assert(
      fc.property(fc.oneof(nonFinite, fc.double({ max: 0 })), (e) => {
        expect(() => assertEpsilon(e)).toThrow(RangeError);
        expect(() => assertEpsilon(e)).toThrow(/^epsilon must be a finite number > 0, got /);
      }),
    );
    expect(() => assertEpsilon('1' as unknown as number)).toThrow(TypeError);
    expect(() => assertEpsilon(0.1)).not.toThrow();
  });

  it('delta must lie in the open interval (0, 1)', () => {
    fc.assert(
      fc.property(fc.oneof(nonFinite, fc.double({ max: 0 }), fc.double({ min: 1 })), (d) => {
        expect(() => assertDelta(d)).toThrow(/^delta must be a number in \(0, 1\), got /);
      }),
    );
    expect(() => assertDelta(1e-5)).not.toThrow();
  });

  it('ranges, integers, finiteness and lengths', () => {
    expect(() => assertFinite('x', Infinity)).toThrow('x must be a finite number, got Infinity');
    expect(() => assertNonNegative('sensitivity', -1)).toThrow('sensitivity must be a finite number >= 0, got -1');
    expect(() => assertInRange('q', 1.5, 0, 1, { minInclusive: false })).toThrow('q must be a number in (0, 1], got 1.5');
    expect(() => assertInRange('q', Number.NaN, 0, 1)).toThrow(/got NaN/);
    expect(() => assertInteger('parties', 2.5, 2, 16)).toThrow('parties must be an integer in [2, 16], got 2.5');
    expect(() => assertFiniteArray('xs', [1, Number.NaN])).toThrow('xs[1] must be a finite number, got NaN');
    expect(() => assertSameLength('x', 3, 'y', 2)).toThrow('x and y must have the same length, got 3 and 2');
    expect(Array.from(toFloat64Array('w', [1, 2]))).toEqual([1, 2]);
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(3n)).toBe('3n');
  });

  it('toMatrix packs rectangular finite rows and names the first bad cell', () => {
    const m = toMatrix('x', [Float64Array.of(1, 2), [3, 4]]);
    expect(m.rows).toBe(2);
    expect(m.cols).toBe(2);
    expect(Array.from(m.data)).toEqual([1, 2, 3, 4]);
    expect(() => toMatrix('x', [[1, 2], [3]])).toThrow('x[1] must have 2 columns, got 1');
    expect(() => toMatrix('x', [[1, Number.NaN]])).toThrow('x[0][1] must be a finite number, got NaN');
    expect(() => toMatrix('x', [[1, 2]], 3)).toThrow(/must have 3 columns/);
    expect(toMatrix('x', []).rows).toBe(0);
  });
});

describe('errors across worker boundaries', () => {
  class ProtocolAbortError extends Error {
    party = -1;
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, options);
      this.name = 'ProtocolAbortError';
    }
  }

  it('keeps class, message, own fields and cause through structuredClone', () => {
    const e = new ProtocolAbortError('party 2 stopped answering', { cause: new RangeError('timeout 50 ms') });
    e.party = 2;
    const cloned = structuredClone(serializeError(e));
    const back = deserializeError(cloned, { ProtocolAbortError });
    expect(back).toBeInstanceOf(ProtocolAbortError);
    expect(back.message).toBe('party 2 stopped answering');
    expect((back as ProtocolAbortError).party).toBe(2);
    expect(back.cause).toBeInstanceOf(RangeError);
    const unknown = deserializeError(serializeError(e));
    expect(unknown.name).toBe('ProtocolAbortError');
    expect(deserializeError(serializeError('plain string')).message).toBe('plain string');
  });
});

describe('assertOptions, assertFunction, assertArrayLike', () => {
  it('rejects unknown keys by name, suggests a case-insensitive match, and rejects non-objects', async () => {
    const { assertOptions, assertFunction, assertArrayLike } = await import('../src/index.ts');
    expect(() => assertOptions('options', { a: 1 }, ['a', 'b'])).not.toThrow();
    expect(() => assertOptions('options', { timeoutMS: 1 }, ['timeoutMs'])).toThrow(
      /options has an unknown key "timeoutMS" \(did you mean "timeoutMs"\?\); allowed keys: timeoutMs/,
    );
    expect(() => assertOptions('options', { dealer: 'none' }, ['parties'])).toThrow(TypeError);
    for (const bad of [null, 1, 'x', [1]]) expect(() => assertOptions('options', bad, ['a'])).toThrow(/options must be an object/);
    expect(() => assertOptions('options', undefined, ['a'])).toThrow(TypeError);
    expect(() => assertOptions('options', undefined, ['a'], true)).not.toThrow();
    expect(() => assertFunction('onProgress', 1)).toThrow(/onProgress must be a function, got 1/);
    expect(() => assertFunction('onProgress', undefined, true)).not.toThrow();
    expect(() => assertArrayLike('orders', { length: 2 ** 40 })).toThrow(/orders must be an array/);
    expect(() => assertArrayLike('orders', [1, 2, 3], 1, 2)).toThrow(/orders must have a length in \[1, 2\], got 3/);
    expect(() => assertArrayLike('orders', new Float64Array(2), 1, 2)).not.toThrow();
  });
});

describe('core entry points refuse what would reach the engine', () => {
  it('names the parameter for tables, paths, module URLs, serialized errors and matrix shapes', async () => {
    const core = await import('../src/index.ts');
    // readCsv(7) used to read file descriptor 7.
    expect(() => core.readCsv(7 as never)).toThrow(/path must be a string or a URL/);
    expect(() => core.columnIndex(undefined as never, 'a')).toThrow(/table must be a CsvTable/);
    expect(() => core.numericRows({ header: ['a'], rows: [] }, 'a' as never)).toThrow(/names must be an array/);
    expect(() => core.siblingModuleUrl(1 as never, './x')).toThrow(/base must be a module URL/);
    expect(() => core.workerExecArgv(6 as never)).toThrow(/entry must be a URL/);
    expect(() => core.deserializeError(undefined as never)).toThrow(/s must be a SerializedError/);
    expect(() => core.toMatrix('x', [[1, 2]], 2 ** 31 - 1)).toThrow(/x\[0\] must have 2147483647 columns, got 2/);
    expect(() => core.encodeFixedPoint({ length: 2 ** 40 } as never)).toThrow(/values must be an array/);
    expect(() => core.encodeFixedPoint([1], { fractionalBit: 16 } as never)).toThrow(/unknown key "fractionalBit"/);
    expect(() => core.uniformDouble(1e308 as never)).toThrow(/rng must be an Rng/);
    expect(core.serializeError(Object.create(null)).message).toBe('an object (Object)');
  });
  it('passes only resolution conditions to workers', async () => {
    const { workerExecArgv } = await import('../src/index.ts');
    expect(workerExecArgv('file:///x/worker.ts')).toContain('--conditions=@ppml/source');
    for (const a of workerExecArgv('file:///x/worker.js')) expect(a.startsWith('--conditions=')).toBe(true);
  });
});
