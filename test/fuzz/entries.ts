/**
 * The entry points of the bad-input suite. Each entry turns generated arguments into one call of a public
 * function (or a short sequence: create, then use) and returns what a caller would see. The runner
 * (`child.ts`) judges each call: a typed error from the library, or a value with no NaN/infinity in it, passes;
 * an error raised by the engine (`x is not a function`, `Invalid array length`), a non-finite number from finite
 * inputs, a crash or a hang fails.
 *
 * Two kinds of entries:
 * - targeted (this file): mostly well-formed options with one key at a time made hostile, which is where hangs
 *   and silent wrong values hide;
 * - generic (`genericEntries`): every exported function and class of every package, called with hostile
 *   positional arguments, so that a new public function joins the suite without anyone writing an entry.
 * @module
 */
import fc from 'fast-check';
import { genericArgs, hostileValue, int, matrix, num, optionsFrom } from './values.ts';

/** One entry point under test. */
export interface FuzzEntry {
  /** Generated positional arguments for `call`. */
  readonly inputs: fc.Arbitrary<unknown[]>;
  /** Calls the library; `ctx` is what `setup` returned. */
  readonly call: (ctx: unknown, ...args: unknown[]) => unknown;
  /** Generated cases per run (default 60). */
  readonly runs?: number;
  /** Shared state for the runs (a SEAL context, keys), created once per child. */
  readonly setup?: () => Promise<unknown>;
  /**
   * The systematic sweep: `base` are good arguments, and argument `at` (an options object) is replaced in turn by
   * each of `sweepOptions(base[at])`.
   */
  readonly sweep?: { readonly at: number; readonly base: readonly unknown[] };
  /** Whether NaN or infinities in a result are legitimate for this entry. */
  readonly allowNonFinite?: boolean;
  /** Cases whose infinite result is the true answer (no noise at all: epsilon is infinite). */
  readonly infiniteIsTrue?: (...args: unknown[]) => boolean;
}

const rngs = fc.constantFrom<unknown>(undefined);
const delta = fc.constantFrom(1e-5, 1e-6, 1e-9);
const accountant = fc.constantFrom('rdp', 'pld');

async function dp(): Promise<typeof import('@ppml/dp')> {
  return import('@ppml/dp');
}

const dpEntries: Record<string, FuzzEntry> = {
  'dp.laplaceMechanism': {
    sweep: { at: 0, base: [{ epsilon: 1, sensitivity: 1 }, 3] },
    inputs: fc.tuple(
      optionsFrom({ epsilon: num(0.01, 10), sensitivity: num(0.01, 100), rng: rngs }, ['epsilon', 'sensitivity']),
      fc.oneof(num(-1e3, 1e3), hostileValue()),
    ),
    call: async (_c, o, x) => {
      const m = (await dp()).laplaceMechanism(o as never);
      return [m.addNoise(x as number), m.guarantee, m.scale, m.noiseScale()];
    },
  },
  'dp.gaussianMechanism': {
    sweep: { at: 0, base: [{ epsilon: 1, delta: 1e-5, sensitivity: 1 }, 3] },
    inputs: fc.tuple(
      optionsFrom({ epsilon: num(0.01, 10), delta, sensitivity: num(0.01, 100), rng: rngs }, ['epsilon', 'delta', 'sensitivity']),
      fc.oneof(num(-1e3, 1e3), hostileValue()),
    ),
    call: async (_c, o, x) => {
      const m = (await dp()).gaussianMechanism(o as never);
      return [m.addNoise(x as number), m.guarantee];
    },
  },
  'dp.exponentialMechanism': {
    sweep: { at: 0, base: [{ epsilon: 1, sensitivity: 1 }, [1, 2, 3]] },
    inputs: fc.tuple(
      optionsFrom({ epsilon: num(0.01, 10), sensitivity: num(0.01, 10), monotonic: fc.boolean() }, ['epsilon', 'sensitivity']),
      fc.oneof(fc.array(num(-10, 10), { minLength: 1, maxLength: 5 }), hostileValue()),
    ),
    call: async (_c, o, scores) => {
      const m = (await dp()).exponentialMechanism(o as never);
      return (m as unknown as { select(s: unknown): unknown }).select(scores);
    },
  },
  'dp.randomizedResponse': {
    sweep: { at: 0, base: [{ epsilon: 1, categories: 2 }, 1] },
    inputs: fc.tuple(optionsFrom({ epsilon: num(0.01, 10), categories: int(2, 10) }, ['epsilon']), fc.oneof(int(0, 1), hostileValue())),
    call: async (_c, o, v) => {
      const m = (await dp()).randomizedResponse(o as never);
      return (m as unknown as { respond(v: unknown): unknown }).respond(v);
    },
  },
  'dp.PrivacyBudget': {
    sweep: { at: 0, base: [{ epsilon: 1, delta: 1e-5 }, [{ epsilon: 0.1 }]] },
    inputs: fc.tuple(
      optionsFrom({ epsilon: num(0.1, 10), delta }, []),
      fc.array(
        fc.oneof(optionsFrom({ epsilon: fc.constantFrom(0.1, 0.2, 0.3, 1 / 3, 0.7), delta: fc.constantFrom(1e-6, 1e-7) }), hostileValue()),
        { maxLength: 12 },
      ),
    ),
    call: async (_c, o, spends) => {
      const b = new (await dp()).PrivacyBudget(o as never);
      const out: unknown[] = [];
      for (const s of spends as unknown[]) {
        try {
          out.push(b.spend(s as never));
        } catch (e) {
          if (!(e instanceof (await dp()).PrivacyBudgetExceededError)) throw e;
        }
      }
      return out;
    },
  },
  'dp.queries': {
    inputs: fc.tuple(
      fc.constantFrom('dpCount', 'dpSum', 'dpMean', 'dpVariance', 'dpHistogram', 'dpQuantile'),
      fc.oneof({ weight: 4, arbitrary: fc.array(num(-5, 5), { maxLength: 20 }) }, { weight: 1, arbitrary: hostileValue() }),
      optionsFrom(
        {
          epsilon: num(0.1, 5),
          lower: fc.constantFrom(-5, 0),
          upper: fc.constantFrom(5, 10),
          q: num(0, 1),
          bins: int(1, 8),
          label: fc.constant('q'),
        },
        ['epsilon'],
      ),
    ),
    call: async (_c, name, values, o) => {
      const f = (await dp())[name as 'dpSum'] as (v: unknown, o: unknown) => unknown;
      return f(values, o);
    },
  },
  'dp.userLevelQueries': {
    sweep: { at: 2, base: ['dpUserSum', [1, 2, 3, 4], { userIds: [1, 1, 2, 3], maxRowsPerUser: 1, lower: 0, upper: 5, epsilon: 1 }] },
    inputs: fc.tuple(
      fc.constantFrom('dpUserSum', 'dpUserMean'),
      fc.oneof({ weight: 4, arbitrary: fc.array(num(-5, 5), { minLength: 4, maxLength: 4 }) }, { weight: 1, arbitrary: hostileValue() }),
      optionsFrom(
        {
          userIds: fc.constantFrom([1, 1, 2, 3], ['a', 'b', 'a', 'c']),
          maxRowsPerUser: int(1, 3),
          lower: fc.constantFrom(-5, 0),
          upper: fc.constantFrom(5, 10),
          epsilon: num(0.1, 5),
        },
        ['userIds', 'maxRowsPerUser', 'lower', 'upper', 'epsilon'],
      ),
    ),
    call: async (_c, name, values, o) => {
      const f = (await dp())[name as 'dpUserSum'] as (v: unknown, o: unknown) => { value: number; sensitivity: number };
      const r = f(values, o);
      return [r.value, r.sensitivity];
    },
  },
  'dp.dpGroupByCount': {
    sweep: {
      at: 1,
      base: [['a', 'b', 'a', 'c'], { userIds: [1, 2, 2, 3], epsilon: 1, delta: 1e-6, maxPartitionsPerUser: 1, maxRowsPerUser: 1 }],
    },
    inputs: fc.tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.array(fc.constantFrom('a', 'b', 7), { minLength: 1, maxLength: 12 }) },
        { weight: 1, arbitrary: hostileValue() },
      ),
      optionsFrom(
        {
          epsilon: num(0.1, 5),
          delta,
          maxPartitionsPerUser: int(1, 3),
          maxRowsPerUser: int(1, 3),
          method: fc.constantFrom('optimal', 'laplace', 'gaussian'),
        },
        ['epsilon', 'delta'],
      ),
    ),
    call: async (_c, keys, o) => [...(await dp()).dpGroupByCount(keys as never, o as never).counts.values()],
  },
  'dp.computeEpsilon': {
    sweep: { at: 0, base: [{ noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' }] },
    inputs: fc.tuple(
      optionsFrom(
        {
          noiseMultiplier: num(0.3, 20),
          sampleRate: num(1e-4, 1),
          steps: int(1, 2000),
          delta,
          accountant,
          orders: fc.constantFrom(undefined, [2, 4, 8, 32]),
        },
        ['noiseMultiplier', 'sampleRate', 'steps', 'delta', 'accountant'],
      ),
    ),
    call: async (_c, o) => (await dp()).computeEpsilon({ onWarning: () => {}, ...(o as object) } as never),
    // sigma = 0 releases the data itself, and sigma below ~1e-150 gives an epsilon beyond the largest double.
    infiniteIsTrue: (o) => {
      const s = (o as { noiseMultiplier?: unknown } | null)?.noiseMultiplier;
      return typeof s === 'number' && s >= 0 && s < 1e-100;
    },
    runs: 40,
  },
  'dp.calibrateNoiseMultiplier': {
    sweep: { at: 0, base: [{ targetEpsilon: 2, delta: 1e-5, sampleRate: 0.01, steps: 100, accountant: 'rdp' }] },
    inputs: fc.tuple(
      optionsFrom({ targetEpsilon: num(0.5, 10), delta, sampleRate: num(1e-3, 0.5), steps: int(1, 500), accountant }, [
        'targetEpsilon',
        'delta',
        'sampleRate',
        'accountant',
      ]),
    ),
    call: async (_c, o) => (await dp()).calibrateNoiseMultiplier({ onWarning: () => {}, ...(o as object) } as never),
    runs: 25,
  },
  'dp.accountants': {
    inputs: fc.tuple(
      fc.constantFrom('RdpAccountant', 'PldAccountant'),
      fc.oneof(
        optionsFrom({ noiseMultiplier: num(0.5, 10) }, ['noiseMultiplier']).map((o) => ['gaussianEvent', o]),
        num(0.1, 5).map((e) => ['laplaceEvent', e]),
        hostileValue().map((v) => ['gaussianEvent', v]),
      ),
      fc.oneof(int(1, 100), hostileValue()),
      fc.oneof(delta, fc.constantFrom(1e-14, 1e-20), hostileValue()),
    ),
    call: async (_c, kind, pair, count, d) => {
      const [event, arg] = pair as [string, unknown];
      const m = await dp();
      const ev = (m[event as 'gaussianEvent'] as (a: unknown) => unknown)(
        event === 'gaussianEvent' && typeof arg === 'object' && arg !== null ? (arg as { noiseMultiplier: unknown }).noiseMultiplier : arg,
      );
      const acc = new m[kind as 'RdpAccountant']();
      acc.compose(ev as never, count as number);
      return acc.getEpsilon(d as number);
    },
    runs: 40,
  },
  'dp.privacyStatement': {
    sweep: { at: 0, base: [{ noiseMultiplier: 1, delta: 1e-5, accountant: 'rdp', sampleRate: 0.01, steps: 100 }] },
    inputs: fc.tuple(
      optionsFrom(
        {
          noiseMultiplier: num(0.5, 20),
          delta,
          accountant,
          sampleRate: num(1e-3, 1),
          steps: int(1, 1000),
          datasetSize: int(10, 10_000),
          batchSize: int(1, 100),
        },
        ['noiseMultiplier', 'delta', 'accountant'],
      ),
    ),
    call: async (_c, o) => (await dp()).privacyStatement({ onWarning: () => {}, ...(o as object) } as never),
    runs: 25,
  },
  'dp.trainDpSgd': {
    sweep: {
      at: 0,
      base: [
        { epochs: 1, learningRate: 0.1, batchSize: 4, clipNorm: 1, noiseMultiplier: 1, delta: 1e-5 },
        [
          [0, 1, 2],
          [1, 0, 2],
          [2, 1, 0],
          [0, 0, 1],
          [1, 1, 0],
          [2, 2, 2],
          [0, 2, 1],
          [1, 2, 0],
          [2, 0, 1],
          [0, 1, 0],
          [1, 0, 1],
          [2, 1, 2],
        ],
      ],
    },
    inputs: fc.tuple(
      optionsFrom(
        {
          epochs: int(1, 2),
          learningRate: num(0.01, 1),
          batchSize: int(1, 8),
          sampling: fc.constantFrom('poisson', 'shuffle'),
          clipNorm: num(0.1, 5),
          noiseMultiplier: num(0.5, 5),
          delta,
          accountant,
          onProgress: fc.constant(() => {}),
        },
        ['learningRate', 'clipNorm', 'delta'],
      ),
      fc.oneof({ weight: 5, arbitrary: matrix(12, 3) }, { weight: 1, arbitrary: hostileValue() }),
    ),
    call: async (_c, o, x) => {
      const m = await dp();
      const y = Array.from({ length: 12 }, (_, i) => i % 2);
      const r = m.trainDpSgd({ model: m.logisticRegression({ features: 3 }), x, y, ...(o as object) } as never);
      return [r.epsilon, r.delta, r.noiseMultiplier];
    },
    runs: 30,
  },
  'dp.trainSgd': {
    sweep: { at: 0, base: [{ epochs: 1, learningRate: 0.1, batchSize: 4 }] },
    inputs: fc.tuple(
      optionsFrom({ epochs: int(1, 3), learningRate: num(0.01, 1), sampleRate: num(0.01, 0.5), batchSize: int(1, 8) }, ['learningRate']),
    ),
    call: async (_c, o) => {
      const m = await dp();
      const x = Array.from({ length: 12 }, (_, i) => [i / 12, 1 - i / 12, 0.5]);
      const y = Array.from({ length: 12 }, (_, i) => i % 2);
      const r = m.trainSgd({ model: m.logisticRegression({ features: 3 }), x, y, ...(o as object) } as never);
      // Non-private training honestly reports epsilon = Infinity; what must stay finite is the loss (or null for
      // an epoch that saw no example).
      return r.history.map((h) => h.loss);
    },
    runs: 30,
  },
};

async function he(): Promise<typeof import('@ppml/he')> {
  return import('@ppml/he');
}

interface HePair {
  client: import('@ppml/he').HeClient;
  server: import('@ppml/he').HeServer;
  rows: Uint8Array;
}

const heEntries: Record<string, FuzzEntry> = {
  'he.planParameters': {
    sweep: { at: 0, base: [{ depth: 2 }] },
    inputs: fc.tuple(optionsFrom({ depth: int(1, 6), scaleBits: int(20, 50), integerBits: int(5, 20) }, [])),
    call: async (_c, o) => (await he()).planParameters(o as never),
  },
  'he.HeClient.create': {
    inputs: fc.tuple(optionsFrom({ polyModulusDegree: fc.constantFrom(4096, 8192), depth: int(1, 3), inputBound: num(1, 100) }, [])),
    call: async (_c, o) => {
      const c = await (await he()).HeClient.create(o as never);
      c.close();
      return c.describe();
    },
    runs: 12,
  },
  'he.server models and inputs': {
    setup: async () => {
      const m = await he();
      const client = await m.HeClient.create({ polyModulusDegree: 8192, depth: 3 });
      const server = await m.HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
      const rows = client.encryptRows([
        [0.5, -1, 2],
        [1, 1, 1],
      ]);
      return { client, server, rows } satisfies HePair;
    },
    inputs: fc.tuple(
      fc.constantFrom('linear', 'logisticRegression', 'mlp'),
      optionsFrom(
        {
          weights: fc.constant([0.5, -0.25, 1]),
          bias: num(-1, 1),
          layers: fc.constant([
            {
              weights: [
                [1, 0, 0],
                [0, 1, 0],
              ],
              bias: [0, 0],
            },
            { weights: [[1, 1]], bias: [0] },
          ]),
          activation: fc.constant('square'),
        },
        [],
      ),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant('valid') },
        { weight: 1, arbitrary: fc.constant('trailing') },
        { weight: 1, arbitrary: fc.constant('flipped') },
        { weight: 1, arbitrary: hostileValue() },
      ),
    ),
    call: async (ctx, method, o, bytes) => {
      const { server, rows, client } = ctx as HePair;
      const model = (server[method as 'linear'] as (o: unknown) => import('@ppml/he').HeModel).call(server, o);
      try {
        let input: unknown = bytes;
        if (bytes === 'valid') input = rows;
        if (bytes === 'trailing') input = Uint8Array.from([...rows, 0, 0, 0, 0]);
        if (bytes === 'flipped') {
          const copy = rows.slice();
          copy[copy.length >> 1] ^= 0xff;
          input = copy;
        }
        const reply = await model.predict(input as Uint8Array);
        return client.decryptScores(reply);
      } finally {
        model.dispose();
      }
    },
    runs: 30,
  },
};

async function smpc(): Promise<typeof import('@ppml/smpc')> {
  return import('@ppml/smpc');
}

const smpcEntries: Record<string, FuzzEntry> = {
  'smpc.SmpcSession.start': {
    sweep: { at: 0, base: [{ parties: 2, protocol: 'additive', timeoutMs: 5000 }] },
    inputs: fc.tuple(
      optionsFrom(
        {
          parties: int(2, 3),
          protocol: fc.constantFrom('additive', 'replicated'),
          fractionalBits: int(8, 20),
          timeoutMs: int(2000, 10_000),
          maxAbs: num(1, 1000),
          onWorkerMessage: fc.constant(() => {}),
        },
        ['parties'],
      ),
    ),
    call: async (_c, o) => {
      const s = await (await smpc()).SmpcSession.start(o as never);
      try {
        const x = await s.share(0, [1.5, -2]);
        return await s.reveal(s.mul(x, x));
      } finally {
        await s.close();
      }
    },
    runs: 14,
  },
  'smpc.session operations': {
    setup: async () => (await smpc()).SmpcSession.start({ parties: 3, protocol: 'replicated' }),
    inputs: fc.tuple(
      fc.oneof(int(0, 2), hostileValue()),
      fc.oneof(
        { weight: 3, arbitrary: fc.array(num(-100, 100), { minLength: 1, maxLength: 4 }) },
        { weight: 1, arbitrary: hostileValue() },
      ),
      fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileValue() }),
      fc.constantFrom('mul', 'matmul', 'lessThan', 'sum', 'sigmoid', 'exp', 'reciprocal', 'reshape', 'sliceRows'),
      fc.oneof(int(0, 4), hostileValue()),
    ),
    call: async (ctx, owner, values, shape, op, k) => {
      const s = ctx as import('@ppml/smpc').SmpcSession;
      const x = await s.share(owner as number, values as number[], shape as never);
      let y: import('@ppml/smpc').SecretTensor;
      switch (op) {
        case 'mul':
          y = s.mul(x, x);
          break;
        case 'matmul':
          y = s.matmul(x, s.transpose(x));
          break;
        case 'lessThan':
          y = s.lessThan(x, k as number);
          break;
        case 'sum':
          y = s.sum(x, k as 0);
          break;
        case 'sigmoid':
          y = s.sigmoid(x);
          break;
        // At the default bound both are refused (RangeError: outside their domains); after max they run.
        case 'exp':
          y = s.exp(s.sub(x, s.max(x)));
          break;
        case 'reciprocal':
          y = s.reciprocal(x);
          break;
        case 'reshape':
          y = s.reshape(x, k as number, 1);
          break;
        default:
          y = s.sliceRows(x, 0, k as number);
      }
      const out = await s.reveal(y);
      s.free(x, y);
      return out;
    },
    runs: 40,
  },
  'smpc.preprocess': {
    sweep: { at: 0, base: [{ mul: 4, lessThan: 1 }] },
    setup: async () => (await smpc()).SmpcSession.start({ parties: 3, protocol: 'replicated' }),
    inputs: fc.tuple(
      optionsFrom(
        {
          mul: int(0, 100),
          lessThan: int(0, 10),
          truncations: int(0, 100),
          relu: int(0, 5),
          sigmoid: int(0, 5),
          matmul: fc.constant([{ m: 2, k: 2, n: 2 }]),
        },
        [],
      ),
    ),
    call: async (ctx, plan) => {
      const s = ctx as import('@ppml/smpc').SmpcSession;
      await s.preprocess(plan as never);
      const x = await s.share(0, [1, 2]);
      return s.reveal(s.mul(x, x));
    },
    runs: 25,
  },
};

/** Every targeted entry, by name. */
export const targetedEntries: Record<string, FuzzEntry> = { ...dpEntries, ...heEntries, ...smpcEntries };

/** Exports that the generic sweep leaves out, each with its reason. */
export const genericExemptions: Record<string, string> = {
  'he.SEAL': 'the node-seal namespace itself, re-exported for advanced users: third-party code with its own contract',
  'he.loadSeal': 'takes no arguments that a caller can get wrong; loads the WASM module',
  'he.clearContextCache': 'takes no arguments',
  'he/service.createHeService':
    'starts an HTTP server and worker threads (the subpath is outside the generic sweep); its bad options and bad requests are covered by packages/he/test/service.test.ts',
};

function isClass(f: unknown): boolean {
  return /^class\b/.test(Function.prototype.toString.call(f));
}

/**
 * One generic entry per exported function or class of `pkg`: hostile positional arguments, as many as the
 * function declares (at least one).
 */
export async function genericEntries(pkg: 'core' | 'dp' | 'he' | 'smpc'): Promise<Record<string, FuzzEntry>> {
  const mod = (await import(`@ppml/${pkg}`)) as Record<string, unknown>;
  const out: Record<string, FuzzEntry> = {};
  for (const [name, value] of Object.entries(mod)) {
    const id = `${pkg}.${name}`;
    if (typeof value !== 'function' || id in genericExemptions) continue;
    const f = value as (...a: unknown[]) => unknown;
    const count = Math.max(1, f.length);
    out[`generic ${id}`] = {
      inputs: fc.tuple(genericArgs(count)),
      call: (_c, args) =>
        isClass(f) ? new (f as unknown as new (...a: unknown[]) => unknown)(...(args as unknown[])) : f(...(args as unknown[])),
      runs: 30,
      // Generic calls pass hostile numbers on purpose; only engine errors, crashes and hangs are judged.
      allowNonFinite: true,
    };
  }
  return out;
}
