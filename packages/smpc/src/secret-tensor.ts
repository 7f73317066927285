/**
 * The handle to a secret-shared matrix that {@link SmpcSession} operations take and return (its values live only
 * in the parties): shape, and the public range that every operation propagates (`bounds.ts`).
 * @module
 */
import { RING, maxAbsOf, type Range } from './bounds.ts';
import type { SmpcSession } from './session.ts';

/** The sessions that may own tensors (a WeakSet, so that a tensor cannot be forged for an object that is not one). */
const SESSIONS = new WeakSet<object>();

/**
 * Registers a session as a tensor owner (internal: called by the session's constructor).
 * @example
 * ```ts
 * registerSession(this);
 * ```
 */
export function registerSession(session: SmpcSession): void {
  SESSIONS.add(session);
}

/**
 * A handle to a secret-shared matrix (rows x cols, row-major); vectors are n x 1. The values live only in the
 * party workers. Release early with `session.free(x)` or `using`.
 * @example
 * ```ts
 * const x = await session.share(0, Float64Array.of(1, 2, 3));
 * x.rows; // 3
 * ```
 */
export class SecretTensor {
  readonly session: SmpcSession;
  readonly id: number;
  readonly rows: number;
  readonly cols: number;
  /**
   * Public interval of ring integers (values times 2^f) that contains every element: from the bound declared
   * at `share`, propagated through each operation (see `bounds.ts`). It depends on declared bounds and shapes
   * only, never on the secret values.
   */
  readonly range: Range;

  /** @internal Tensors are made by {@link SmpcSession.share} and the session's operations. */
  constructor(session: SmpcSession, id: number, rows: number, cols: number, range: Range = RING) {
    if (!SESSIONS.has(session) || !Number.isSafeInteger(id) || !Number.isSafeInteger(rows) || !Number.isSafeInteger(cols)) {
      throw new TypeError('SecretTensor has no public constructor: use session.share(owner, values, shape)');
    }
    this.session = session;
    this.id = id;
    this.rows = rows;
    this.cols = cols;
    this.range = range;
  }

  /** Number of elements. */
  get length(): number {
    return this.rows * this.cols;
  }

  /**
   * Public bound on |x| for every element (declared at `share`, propagated through the operations).
   * @example
   * ```ts
   * const x = await session.share(0, [1, 2], undefined, { maxAbs: 10 });
   * session.add(x, x).maxAbs; // 20
   * ```
   */
  get maxAbs(): number {
    return maxAbsOf(this.range, this.session.fractionalBits);
  }

  [Symbol.dispose](): void {
    this.session.free(this);
  }
}
