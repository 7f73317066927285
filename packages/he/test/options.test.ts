// The public boundary (issue 10, items 13, 19 and 20): every options object rejects unknown keys with a TypeError
// naming the key and the allowed ones; array parameters are checked as arrays (a sparse `layers` array used to
// be walked with forEach, which skips holes); and every size is bounded by what the ring and the heap can hold,
// checked before anything is allocated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CkksOps,
  HeClient,
  HeContext,
  HeModel,
  HeServer,
  describePlan,
  evaluatePlain,
  maxAbsError,
  modelDepth,
  planParameters,
  polynomialDepth,
  polyval,
  specFromJSON,
} from '../src/index.ts';

let client: HeClient;
let server: HeServer;

beforeAll(async () => {
  client = await HeClient.create({ inputBound: 4, features: 3 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('unknown option keys', () => {
  it('are refused by the client, the server and the planner, naming the key and the allowed ones', async () => {
    await expect(HeClient.create({ depth: 1, inputbound: 3 } as never)).rejects.toThrow(
      /options has an unknown key "inputbound" \(did you mean "inputBound"\?\); allowed keys: depth, /,
    );
    await expect(HeClient.load(client.exportClientKeys(), { thread: 2 } as never)).rejects.toThrow(TypeError);
    await expect(HeServer.create(client.exportEvaluationKeys(), { threadz: 1 } as never)).rejects.toThrow(/unknown key "threadz"/);
    expect(() => planParameters({ dept: 2 } as never)).toThrow(/unknown key "dept"/);
    await expect(HeClient.create(null as never)).rejects.toThrow(/options must be an object/);
  });

  it('are refused by every model factory and nested option object', () => {
    expect(() => server.linear({ weights: [1, 2, 3], bias: 0, sigmoid: 'client' } as never)).toThrow(/unknown key "sigmoid"/);
    expect(() => server.logisticRegression({ weights: [1, 2, 3], featurebounds: 3 } as never)).toThrow(/did you mean "featureBounds"/);
    expect(() => server.logisticRegression({ features: 2147483648 } as never)).toThrow(TypeError);
    expect(() => server.mlp({ layers: [{ weights: [1, 2, 3], bias: [0] }], activation: 'square', activationrange: 3 } as never)).toThrow(
      TypeError,
    );
    expect(() => server.fromJSON({ weights: [1, 2, 3] }, { sigmoidd: 'client' } as never)).toThrow(/unknown key "sigmoidd"/);
    expect(() =>
      server.logisticRegression({ weights: [1, 2, 3], sigmoid: { degree: 3, range: 5, metod: 'chebyshev' } as never, featureBounds: 1 }),
    ).toThrow(/sigmoid has an unknown key "metod"/);
    const layers = [
      { weights: [1, 2, 3], bias: [0] },
      { weights: [1], bias: [0] },
    ];
    expect(() => server.mlp({ layers, activation: { approximate: 'tanh', range: 3, degre: 3 } as never })).toThrow(
      /activation has an unknown key "degre"/,
    );
  });
});

describe('array parameters', () => {
  it('a sparse layers array is a TypeError naming the hole, not a silently shorter model', () => {
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the bad input under test
    const sparse = [, { weights: [1, 2, 3], bias: [0] }] as never;
    expect(() => server.mlp({ layers: sparse, activation: 'square' })).toThrow(/layers\[0\].*sparse/);
    expect(() => server.mlp({ layers: { length: 1, 0: { weights: [1], bias: [0] } } as never, activation: 'square' })).toThrow(
      /layers must be an array/,
    );
    expect(() => specFromJSON({ kind: 'mlp', layers: 'abc', activation: 'square' })).toThrow(/json.layers must be an array/);
    expect(() => server.linear({ weights: 'abc' as never })).toThrow(/weights must be an array/);
  });
});

describe('every export checks what it is given (the generated-input suite calls each with hostile arguments)', () => {
  it('internal constructors say which factory to use; helpers name the bad parameter', () => {
    const construct = (C: unknown, ...args: unknown[]): unknown => new (C as new (...a: unknown[]) => unknown)(...args);
    expect(() => construct(HeClient, 1)).toThrow(/HeClient has no public constructor: use HeClient.create/);
    expect(() => construct(HeServer, null)).toThrow(/HeServer has no public constructor/);
    expect(() => construct(HeModel, [1, 2, 3], 1)).toThrow(/HeModel has no public constructor/);
    expect(() => construct(HeContext, 0, 0)).toThrow(/HeContext has no public constructor/);
    expect(() => construct(CkksOps, null)).toThrow(/ctx must be an HeContext/);
    expect(() => describePlan({} as never)).toThrow(/plan.depth must be a number/);
    expect(() => polyval([1, 2, 3], 1n as never)).toThrow(/x must be a number/);
    expect(() => polyval([1n, 2n] as never, 1)).toThrow(/coefficients\[0\] must be a number/);
    expect(() => polynomialDepth(null as never)).toThrow(/coefficients must be an array/);
    expect(() => maxAbsError([1, 2], Math.sin, 3 as never)).toThrow(/range must be a pair/);
    expect(() => maxAbsError([1, 2], 'sin' as never, [0, 1])).toThrow(/f must be a function/);
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the bad input under test
    expect(() => modelDepth([, , ,] as never)).toThrow(/spec must be a ModelSpec/);
    expect(() => evaluatePlain(Float64Array.of(0, 0, 0) as never, [1])).toThrow(/spec must be a ModelSpec/);
    expect(() => evaluatePlain(server.linear({ weights: [1, 2, 3] }).spec, [1, 2])).toThrow(/row must have a length in \[3, 3\]/);
  });
});

describe('sizes are bounded before allocation', () => {
  it('a huge features count or weights length is refused at once', async () => {
    await expect(HeClient.create({ features: 2147483648 })).rejects.toThrow(/features must be at most \d+/);
    await expect(HeClient.create({ features: 2147483648, layout: 'row' })).rejects.toThrow(/features must be at most 2048/);
    // Sparse arrays claim a huge length without holding it; copying one into a Float64Array would take 16 GiB.
    expect(() => server.logisticRegression({ weights: new Array(2 ** 31) })).toThrow(/weights must have a length in \[0, 16777216\]/);
    expect(() => server.logisticRegression({ weights: { length: 2 ** 31 } as never })).toThrow(/weights must be an array/);
    expect(() => server.mlp({ layers: [{ weights: [1], bias: new Array(2 ** 31) }], activation: 'square' })).toThrow(
      /bias must have a length in \[0, 65536\]/,
    );
  });

  it('rows × features beyond one call is refused before the matrix is allocated', () => {
    expect(() => client.encryptRows(new Array(2 ** 26))).toThrow(/at most 134217728 values per call/);
    expect(() => client.encryptVector({ length: 2 ** 31 } as never)).toThrow(/values must be an array/);
    expect(() => client.encryptVector(new Float64Array(client.slots + 1))).toThrow(/values must have a length in \[1, 2048\]/);
    using v = server.vector(client.encryptVector([1, 2]));
    expect(() => v.polyval(new Array(2 ** 31))).toThrow(/coefficients must have a length in \[1, 256\]/);
    expect(() => v.polyval('abc' as never)).toThrow(/coefficients must be an array/);
  });

  it('heapLimitBytes is checked', async () => {
    await expect(HeClient.create({ heapLimitBytes: Number.NaN })).rejects.toThrow(/heapLimitBytes/);
    await expect(HeServer.create(client.exportEvaluationKeys(), { heapLimitBytes: 2 ** 40 })).rejects.toThrow(/heapLimitBytes/);
  });
});
