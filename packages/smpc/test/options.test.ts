// Every public options object of @ppml/smpc refuses unknown keys (a typo such as `timeoutMS`, or an option this
// version does not have, such as `dealer: 'none'`, would otherwise run with the defaults without a word);
// callbacks are checked when given; malformed arguments get a TypeError/RangeError naming the parameter, never
// an error raised by the engine (`x is not iterable`, `Cannot read properties of null`); and a user callback that
// throws aborts its session instead of killing the process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProtocolAbortError,
  SmpcSession,
  jointStatistics,
  logisticRegressionPredict,
  secureAggregation,
  trainLogisticRegression,
  type SecretTensor,
  type SmpcSessionOptions,
} from '../src/index.ts';

const ENGINE = /is not iterable|Cannot read propert|is not a function|Cannot destructure|Cannot convert/;

/** Resolves with what a call threw (synchronously or as a rejection). */
async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

async function expectTypeError(f: () => unknown, message: RegExp): Promise<void> {
  const e = await thrown(f);
  expect(e).toBeInstanceOf(TypeError);
  expect((e as Error).message).toMatch(message);
  expect((e as Error).message).not.toMatch(ENGINE);
}

describe('SmpcSession.start options', () => {
  it("refuses unknown keys with a TypeError naming the key and the allowed ones (adversary: 'malicious', timeoutMS)", async () => {
    await expectTypeError(
      () => SmpcSession.start({ parties: 3, protocol: 'replicated', adversary: 'malicious' } as SmpcSessionOptions),
      /^options has an unknown key "adversary"; allowed keys: parties, protocol, dealer, fractionalBits, timeoutMs, maxAbs, onWorkerMessage, faultInjection, security, statisticalSecurity$/,
    );
    await expectTypeError(
      () => SmpcSession.start({ parties: 2, timeoutMS: 5000 } as SmpcSessionOptions),
      /options has an unknown key "timeoutMS" \(did you mean "timeoutMs"\?\)/,
    );
    await expectTypeError(
      () => SmpcSession.start({ parties: 2, faultInjection: { party: 0, operation: 'mul', kind: 'hang', when: 1 } as never }),
      /faultInjection has an unknown key "when"; allowed keys: party, operation, kind, message/,
    );
  });

  it('reports a non-object options argument as options, and wrong types as TypeError', async () => {
    for (const bad of [null, undefined, 'parties=2', 3, [2]]) {
      await expectTypeError(() => SmpcSession.start(bad as unknown as SmpcSessionOptions), /^options must be an object, got /);
    }
    await expectTypeError(
      () => SmpcSession.start({ parties: '3' as unknown as number }),
      /parties must be an integer in \[2, 16\], got "3"/,
    );
    await expectTypeError(
      () => SmpcSession.start({ parties: 3, protocol: 1 as unknown as 'additive' }),
      /protocol must be 'additive' or 'replicated', got 1/,
    );
    await expectTypeError(
      () => SmpcSession.start({ parties: 3, fractionalBits: 16n as unknown as number }),
      /fractionalBits must be an integer in \[8, 20\], got 16n/,
    );
  });

  it('checks the onWorkerMessage callback before any worker starts', async () => {
    for (const bad of [1, 'log', {}, null]) {
      await expectTypeError(
        () => SmpcSession.start({ parties: 2, protocol: 'additive', onWorkerMessage: bad as unknown as () => void }),
        /^onWorkerMessage must be a function, got /,
      );
    }
  });
});

describe('a throwing onWorkerMessage callback aborts its session, never the process', () => {
  it('throwing on the first worker message: start rejects with ProtocolAbortError naming the callback', async () => {
    const error = await thrown(() =>
      SmpcSession.start({
        parties: 2,
        onWorkerMessage: () => {
          throw new Error('audit log unavailable');
        },
      }),
    );
    expect(error).toBeInstanceOf(ProtocolAbortError);
    expect((error as Error).message).toBe('the onWorkerMessage callback threw: audit log unavailable');
    expect(((error as Error).cause as Error).message).toBe('audit log unavailable');
  });

  it('throwing mid-run: the pending operation rejects with the cause, close() settles', async () => {
    let calls = 0;
    const s = await SmpcSession.start({
      parties: 3,
      protocol: 'replicated',
      onWorkerMessage: (_from, m) => {
        if ((m as { type: string }).type === 'done' && ++calls > 3) throw new RangeError('callback bug');
      },
    });
    const x = await s.share(0, [1, 2]);
    const error = await thrown(() => s.reveal(s.mul(x, x)));
    expect(error).toBeInstanceOf(ProtocolAbortError);
    expect((error as Error).message).toMatch(/onWorkerMessage callback threw: callback bug/);
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expect(s.abortError).toBe(error);
    await s.close();
    expect(s.activeWorkers).toBe(0);
  });
});

describe('operations and applications', () => {
  let s: SmpcSession;
  let x: SecretTensor;
  beforeAll(async () => {
    s = await SmpcSession.start({ parties: 2 });
    x = await s.share(0, [1, 2, 3, 4], [2, 2]);
  });
  afterAll(async () => {
    await s.close();
  });

  it('share: a shape that is not [rows, cols] is a TypeError/RangeError naming shape', async () => {
    await expectTypeError(() => s.share(0, [1, 2], '1x2' as never), /^shape must be an array, got "1x2"/);
    await expectTypeError(() => s.share(0, [1, 2], { 0: 1, 1: 2, length: 2 } as never), /^shape must be an array/);
    await expectTypeError(
      () => s.share(0, [1, 2], ['1', '2'] as never),
      /^shape must be \[rows, cols\] \(two integers\), got \["1", "2"\]/,
    );
    await expect(s.share(0, [1, 2], [2] as never)).rejects.toThrow(/^shape must have a length in \[2, 2\], got 1$/);
    await expect(s.share(0, [1, 2], [1, 2, 3] as never)).rejects.toThrow(RangeError);
  });

  it('preprocess: unknown keys, a non-array plan.matmul and malformed entries are named', async () => {
    await expectTypeError(
      () => s.preprocess({ mul: 1, muls: 2 } as never),
      /^plan has an unknown key "muls"; allowed keys: mul, lessThan, truncations, relu, sigmoid, matmul$/,
    );
    await expectTypeError(() => s.preprocess(null as never), /^plan must be an object, got null/);
    await expectTypeError(() => s.preprocess({ matmul: { m: 1, k: 1, n: 1 } } as never), /^plan.matmul must be an array, got an object/);
    await expectTypeError(() => s.preprocess({ matmul: 'mm' } as never), /^plan.matmul must be an array, got "mm"/);
    await expectTypeError(() => s.preprocess({ matmul: [null] } as never), /^plan.matmul\[0\] must be an object, got null/);
    await expectTypeError(
      // biome-ignore lint/suspicious/noSparseArray: the hole is the bad input under test.
      () => s.preprocess({ matmul: [{ m: 1, k: 1, n: 1 }, , { m: 1, k: 1, n: 1 }] } as never),
      /^plan.matmul\[1\] must be an object, got undefined/,
    );
    await expectTypeError(
      () => s.preprocess({ matmul: [{ m: 1, k: 1, n: 1, times: 2 }] } as never),
      /^plan.matmul\[0\] has an unknown key "times"/,
    );
  });

  it('concatRows: a hole in the list is named, not skipped', async () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the bad input under test.
    expect(() => s.concatRows([x, , x] as never)).toThrow(/^list\[1\] must be a SecretTensor, got undefined$/);
    expect(() => s.concatRows('x' as never)).toThrow(TypeError);
  });

  it('applications refuse unknown keys, malformed entries and a wrong session with a named TypeError', async () => {
    await expectTypeError(() => secureAggregation(s, [null] as never), /^contributions\[0\] must be an object, got null/);
    await expectTypeError(
      () => secureAggregation(s, [{ party: 0, value: [1] }] as never),
      /^contributions\[0\] has an unknown key "value"; allowed keys: party, values/,
    );
    await expectTypeError(() => secureAggregation({} as never, [{ party: 0, values: [1] }]), /^session must be an SmpcSession/);
    await expectTypeError(
      () => jointStatistics(s, [{ party: 0, values: [1] }], { edge: [0, 1] } as never),
      /^options has an unknown key "edge"; allowed keys: edges/,
    );
    await expectTypeError(() => jointStatistics(s, [{ party: 0, values: [1] }], null as never), /^options must be an object, got null/);
    await expectTypeError(
      () => jointStatistics(s, [{ party: 0, values: [1] }], { edges: ['a', 'b'] } as never),
      /^options.edges\[0\] must be a number/,
    );
    await expectTypeError(() => jointStatistics(s, [undefined] as never), /^inputs\[0\] must be an object, got undefined/);
    const parts = [{ party: 0, features: [1, 2], labels: [1] }];
    await expectTypeError(() => trainLogisticRegression(s, parts, null as never), /^options must be an object, got null/);
    await expectTypeError(
      () => trainLogisticRegression(s, parts, { features: 2, learningrate: 0.1 } as never),
      /did you mean "learningRate"/,
    );
    await expectTypeError(() => trainLogisticRegression(s, [null] as never, { features: 2 }), /^parts\[0\] must be an object, got null/);
    await expectTypeError(
      () => trainLogisticRegression(s, [{ ...parts[0], weight: 1 }] as never, { features: 2 }),
      /^parts\[0\] has an unknown key "weight"/,
    );
    expect(() => logisticRegressionPredict(s, x, [1, 2] as never)).toThrow(/^weights must be a SecretTensor, got an array of length 2$/);
    expect(() => logisticRegressionPredict(s, null as never, x)).toThrow(/^x must be a SecretTensor, got null$/);
  });
});
