/**
 * Argument checks for the public boundary of every ppml package. Each throws a built-in `TypeError` (wrong
 * type) or `RangeError` (wrong value) whose message names the parameter and the allowed range, e.g.
 * `epsilon must be a finite number > 0, got NaN`. Following noble-curves, checks happen once at the boundary
 * so that kernels can stay branch-free.
 * @module
 */

/**
 * Renders a value for an error message: `NaN`, `Infinity`, `-0`, quoted strings, `null`, type names.
 * @example
 * ```ts
 * describeValue(Number.NaN); // 'NaN'
 * ```
 */
export function describeValue(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x);
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  return typeof x === 'object' ? `an object (${x.constructor?.name ?? 'Object'})` : typeof x;
}

/** A parameter name for a message, even when a caller passed something else as the name. */
function label(name: unknown): string {
  return typeof name === 'string' ? name : describeValue(name);
}

function requireNumber(name: string, x: unknown, range: string): asserts x is number {
  if (typeof x !== 'number') throw new TypeError(`${label(name)} must be ${range}, got ${describeValue(x)}`);
}

/**
 * Requires a finite number (not NaN, not ±Infinity).
 * @example
 * ```ts
 * assertFinite('sensitivity', 1.5);
 * ```
 */
export function assertFinite(name: string, x: unknown): asserts x is number {
  requireNumber(name, x, 'a finite number');
  if (!Number.isFinite(x)) throw new RangeError(`${label(name)} must be a finite number, got ${describeValue(x)}`);
}

/**
 * Requires a finite number > 0.
 * @example
 * ```ts
 * assertPositive('epsilon', 1); // ok; assertPositive('epsilon', 0) throws RangeError
 * ```
 */
export function assertPositive(name: string, x: unknown): asserts x is number {
  requireNumber(name, x, 'a finite number > 0');
  if (!(Number.isFinite(x) && x > 0)) {
    throw new RangeError(`${label(name)} must be a finite number > 0, got ${describeValue(x)}`);
  }
}

/**
 * Requires a finite number >= 0.
 * @example
 * ```ts
 * assertNonNegative('sensitivity', 0);
 * ```
 */
export function assertNonNegative(name: string, x: unknown): asserts x is number {
  requireNumber(name, x, 'a finite number >= 0');
  if (!(Number.isFinite(x) && x >= 0)) {
    throw new RangeError(`${label(name)} must be a finite number >= 0, got ${describeValue(x)}`);
  }
}

/** Options of {@link assertInRange}: whether each end is included (both are by default). */
export interface RangeOptions {
  minInclusive?: boolean;
  maxInclusive?: boolean;
}

/**
 * Requires a number in a range, open or closed at each end. Infinite ends are allowed (`max = Infinity`).
 * @example
 * ```ts
 * assertInRange('delta', 1e-5, 0, 1, { minInclusive: false, maxInclusive: false }); // delta in (0, 1)
 * ```
 */
export function assertInRange(
  name: string,
  x: unknown,
  min: number,
  max: number,
  { minInclusive = true, maxInclusive = true }: RangeOptions = {},
): asserts x is number {
  if (typeof min !== 'number' || typeof max !== 'number') {
    throw new TypeError(`min and max must be numbers, got ${describeValue(min)} and ${describeValue(max)}`);
  }
  const range = `${minInclusive ? '[' : '('}${min}, ${max}${maxInclusive ? ']' : ')'}`;
  requireNumber(name, x, `a number in ${range}`);
  const okMin = minInclusive ? x >= min : x > min;
  const okMax = maxInclusive ? x <= max : x < max;
  if (!(okMin && okMax) || Number.isNaN(x)) {
    throw new RangeError(`${label(name)} must be a number in ${range}, got ${describeValue(x)}`);
  }
}

/**
 * Requires an integer in `[min, max]` (safe integers by default).
 * @example
 * ```ts
 * assertInteger('parties', 3, 2, 16);
 * ```
 */
export function assertInteger(
  name: string,
  x: unknown,
  min: number = Number.MIN_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts x is number {
  if (typeof min !== 'number' || typeof max !== 'number') {
    throw new TypeError(`min and max must be numbers, got ${describeValue(min)} and ${describeValue(max)}`);
  }
  const range = `an integer in [${min}, ${max}]`;
  requireNumber(name, x, range);
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new RangeError(`${label(name)} must be ${range}, got ${describeValue(x)}`);
  }
}

/**
 * Requires a privacy parameter epsilon: a finite number > 0.
 * @example
 * ```ts
 * assertEpsilon(0.5);
 * ```
 */
export function assertEpsilon(x: unknown, name = 'epsilon'): asserts x is number {
  assertPositive(name, x);
}

/**
 * Requires a privacy parameter delta in the open interval (0, 1).
 * @example
 * ```ts
 * assertDelta(1e-5);
 * ```
 */
export function assertDelta(x: unknown, name = 'delta'): asserts x is number {
  assertInRange(name, x, 0, 1, { minInclusive: false, maxInclusive: false });
}

/**
 * Requires every element of an array-like of numbers to be finite; the message names the first bad index.
 * @example
 * ```ts
 * assertFiniteArray('values', Float64Array.of(1, 2, 3));
 * ```
 */
export function assertFiniteArray(name: string, xs: ArrayLike<number>): void {
  if (xs === null || typeof xs !== 'object' || typeof xs.length !== 'number') {
    throw new TypeError(`${label(name)} must be an array of numbers, got ${describeValue(xs)}`);
  }
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (typeof v !== 'number') throw new TypeError(`${label(name)}[${i}] must be a number, got ${describeValue(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${label(name)}[${i}] must be a finite number, got ${describeValue(v)}`);
  }
}

/**
 * Copies an array-like of finite numbers into a new `Float64Array` (or checks and returns a `Float64Array`
 * as is when `copy` is false).
 * @example
 * ```ts
 * const v = toFloat64Array('weights', [0.5, -1, 2]);
 * ```
 */
export function toFloat64Array(name: string, xs: ArrayLike<number>, copy = true): Float64Array {
  assertFiniteArray(name, xs);
  if (!copy && xs instanceof Float64Array) return xs;
  return Float64Array.from(xs);
}

/**
 * Requires two lengths to agree; the message names both parameters.
 * @example
 * ```ts
 * assertSameLength('x', rows.length, 'y', labels.length);
 * ```
 */
export function assertSameLength(nameA: string, a: number, nameB: string, b: number): void {
  if (a !== b) throw new RangeError(`${nameA} and ${nameB} must have the same length, got ${a} and ${b}`);
}

/** A dense row-major matrix of doubles. */
export interface Matrix {
  /** `rows * cols` values, row after row. */
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Checks a list of rows (arrays or typed arrays) for a rectangular shape and finite values, and packs it
 * row-major into one `Float64Array`. `cols`, when given, is the required width.
 * @example
 * ```ts
 * const m = toMatrix('x', [[1, 2], [3, 4]]); // { rows: 2, cols: 2, data: Float64Array [1, 2, 3, 4] }
 * ```
 */
export function toMatrix(name: string, rows: ReadonlyArray<ArrayLike<number>>, cols?: number): Matrix {
  if (!Array.isArray(rows)) throw new TypeError(`${label(name)} must be an array of rows, got ${describeValue(rows)}`);
  if (cols !== undefined) assertInteger('cols', cols, 0, 2 ** 32 - 1);
  // Every row's shape is checked before the one allocation, so a wrong `cols` or a row that claims an absurd
  // length is refused by name rather than by the engine.
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (row === null || typeof row !== 'object' || !(Array.isArray(row) || ArrayBuffer.isView(row))) {
      throw new TypeError(`${label(name)}[${r}] must be an array of numbers, got ${describeValue(row)}`);
    }
  }
  const width = cols ?? (rows.length > 0 ? (rows[0] as ArrayLike<number>).length : 0);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as ArrayLike<number>;
    if (row.length !== width) {
      throw new RangeError(`${label(name)}[${r}] must have ${width} columns, got ${row.length}`);
    }
  }
  const data = new Float64Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as ArrayLike<number>;
    for (let c = 0; c < width; c++) {
      const v = row[c];
      if (typeof v !== 'number') throw new TypeError(`${label(name)}[${r}][${c}] must be a number, got ${describeValue(v)}`);
      if (!Number.isFinite(v)) {
        throw new RangeError(`${label(name)}[${r}][${c}] must be a finite number, got ${describeValue(v)}`);
      }
      data[r * width + c] = v;
    }
  }
  return { data, rows: rows.length, cols: width };
}

/**
 * Requires an options object: a non-null, non-array object whose own keys are all in `allowed`. A key that is
 * not allowed is a `TypeError` naming it, the allowed keys, and the closest allowed key when one differs only
 * in case (`timeoutMS` for `timeoutMs`): silently ignoring a typo would let a user believe a setting took
 * effect. `undefined` is accepted when `optional` is true (the caller then uses its defaults).
 * @example
 * ```ts
 * assertOptions('options', { epsilon: 1 }, ['epsilon', 'delta']); // ok
 * assertOptions('options', { epsilonn: 1 }, ['epsilon', 'delta']); // TypeError: options has an unknown key "epsilonn" ...
 * ```
 */
export function assertOptions(
  name: string,
  options: unknown,
  allowed: readonly string[],
  optional = false,
): asserts options is Record<string, unknown> {
  if (!Array.isArray(allowed) || allowed.some((k) => typeof k !== 'string')) {
    throw new TypeError(`allowed must be an array of key names, got ${describeValue(allowed)}`);
  }
  if (options === undefined && optional) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${label(name)} must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((k) => k.toLowerCase() === key.toLowerCase());
    const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
    throw new TypeError(`${label(name)} has an unknown key ${JSON.stringify(key)}${hint}; allowed keys: ${allowed.join(', ')}`);
  }
}

/**
 * Requires a function (for callbacks such as `onProgress`), or `undefined` when `optional` is true.
 * @example
 * ```ts
 * assertFunction('onProgress', () => {}); // ok; assertFunction('onProgress', 1) throws TypeError
 * ```
 */
export function assertFunction(name: string, x: unknown, optional = false): void {
  if (x === undefined && optional) return;
  if (typeof x !== 'function') throw new TypeError(`${label(name)} must be a function, got ${describeValue(x)}`);
}

/**
 * Requires an array or typed array whose length is an integer in `[minLength, maxLength]`. Checked before any
 * allocation sized by the length, so that an array-like claiming a huge length is refused, not allocated.
 * @example
 * ```ts
 * assertArrayLike('orders', [2, 4, 8], 1, 10_000);
 * ```
 */
export function assertArrayLike(name: string, x: unknown, minLength = 0, maxLength: number = 2 ** 32 - 1): asserts x is ArrayLike<unknown> {
  if (!Array.isArray(x) && !(ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    throw new TypeError(`${label(name)} must be an array, got ${describeValue(x)}`);
  }
  const n = (x as ArrayLike<unknown>).length;
  if (n < minLength || n > maxLength) {
    throw new RangeError(`${label(name)} must have a length in [${minLength}, ${maxLength}], got ${n}`);
  }
}
