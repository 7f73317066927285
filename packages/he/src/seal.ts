/**
 * Loading Microsoft SEAL (node-seal 7, SEAL 4.x compiled to WebAssembly) once per thread, watching its WASM heap,
 * and turning its C++ exceptions into JavaScript errors.
 *
 * node-seal 7 reports a C++ exception as a `WebAssembly.Exception` whose `message` is the pair `[type, what]`
 * (e.g. `['std::logic_error', 'result ciphertext is transparent']`); {@link sealError} maps those to built-in
 * `RangeError`/`Error` (or to {@link HeFormatError} while reading bytes) with the SEAL text kept in the message and
 * the original exception as `cause`. The module is instantiated through Emscripten's `instantiateWasm` hook so
 * that the linear memory can be observed: the heap never shrinks and, near the 4 GiB wasm32 limit, the next
 * allocation hangs instead of throwing (node-seal issue 68), so {@link assertHeapBelow} enforces a soft cap.
 * Requires WebAssembly exception references (exnref): Node >= 24 (or 22.12 with `--experimental-wasm-exnref`).
 * @module
 */
import { assertInRange, describeValue } from '@ppml/core';
import { platform } from '#platform';
import SEALFactory from 'node-seal';
import type { MainModule } from 'node-seal';
import { HeFormatError } from './errors.ts';

/** The node-seal module object (`await SEAL()`): constructors for every SEAL class. */
export type Seal = MainModule;

/** The parts of the WebAssembly JS API used here (the project's TypeScript lib has no DOM/WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<WasmInstance>;
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  readonly Exception?: abstract new (...args: never[]) => object;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface LoadedSeal {
  readonly seal: Seal;
  readonly memory: WasmMemory | undefined;
}

let loading: Promise<LoadedSeal> | undefined;
let wasmUrl: string | URL | undefined;

/**
 * Where node-seal's `seal_throws.wasm` is loaded from. Default: in Node, the installed `node-seal` package; in a
 * browser bundle, next to the bundle (`new URL('seal_throws.wasm', import.meta.url)`, where node-seal's own
 * browser build looks too: copy `node-seal/dist/seal_throws.wasm` there). Call it before the first client or
 * server is created; `file:` URLs are read from disk, others fetched.
 * @example
 * ```ts
 * setSealWasmUrl('/assets/seal_throws.wasm');
 * ```
 */
export function setSealWasmUrl(url: string | URL): void {
  if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError(`url must be a string or a URL, got ${describeValue(url)}`);
  wasmUrl = url;
}
let loaded: LoadedSeal | undefined;

function explainLoadFailure(e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  if (/exn|try_table|noexternref|Invalid opcode/i.test(text)) {
    return new Error(
      `node-seal 7 needs WebAssembly exception references (exnref); this is ${platform.runtime()}. ` +
        'Use Node >= 24 (or Node 22.12+ with --experimental-wasm-exnref).',
      { cause: e },
    );
  }
  return new Error(`could not load node-seal: ${text}`, { cause: e });
}

async function instantiate(): Promise<LoadedSeal> {
  let memory: WasmMemory | undefined;
  let module: object;
  try {
    module = await WA.compile(await platform.sealWasm(wasmUrl));
  } catch (e) {
    throw explainLoadFailure(e);
  }
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  try {
    const factory = SEALFactory({
      instantiateWasm(imports: object, done: (i: WasmInstance, m: object) => void) {
        WA.instantiate(module, imports).then((instance) => {
          memory = Object.values(instance.exports).find((x): x is WasmMemory => x instanceof WA.Memory);
          done(instance, module);
        }, fail);
        return {};
      },
    });
    const seal = await Promise.race([factory, failed]);
    return { seal, memory };
  } catch (e) {
    throw explainLoadFailure(e);
  }
}

/**
 * The SEAL module of this thread, instantiated on first use (about 50 ms) and shared afterwards.
 * @example
 * ```ts
 * const seal = await loadSeal();
 * const parms = new seal.EncryptionParameters(seal.SchemeType.ckks);
 * ```
 */
export async function loadSeal(): Promise<Seal> {
  if (loaded) return loaded.seal;
  loading ??= instantiate().then((l) => (loaded = l));
  try {
    return (await loading).seal;
  } catch (e) {
    loading = undefined;
    throw e;
  }
}

/**
 * Size in bytes of this thread's SEAL WebAssembly heap (0 before {@link loadSeal}). It only ever grows.
 * @example
 * ```ts
 * const before = wasmHeapBytes();
 * ```
 */
export function wasmHeapBytes(): number {
  return loaded?.memory?.buffer.byteLength ?? 0;
}

/**
 * Default soft cap on the SEAL heap: 3 GiB, well below the wasm32 limit where allocations hang.
 * @example
 * ```ts
 * const client = await HeClient.create({ heapLimitBytes: DEFAULT_HEAP_LIMIT_BYTES / 2 });
 * ```
 */
export const DEFAULT_HEAP_LIMIT_BYTES: number = 3 * 1024 ** 3;

/**
 * Checks a `heapLimitBytes` option (a number of bytes in [2^20, 2^32]) and returns it, or
 * {@link DEFAULT_HEAP_LIMIT_BYTES} when it is undefined; TypeError for a non-number, RangeError outside the range.
 * @example
 * ```ts
 * const heap = checkHeapLimit(options.heapLimitBytes);
 * ```
 */
export function checkHeapLimit(limit: unknown): number {
  const l = limit ?? DEFAULT_HEAP_LIMIT_BYTES;
  assertInRange('heapLimitBytes', l, 2 ** 20, 2 ** 32);
  return l;
}

/**
 * Throws a `RangeError` when the SEAL heap has grown past `limit` bytes, before the next large allocation.
 * @example
 * ```ts
 * assertHeapBelow(DEFAULT_HEAP_LIMIT_BYTES);
 * ```
 */
export function assertHeapBelow(limit: number): void {
  const used = wasmHeapBytes();
  if (used > limit) {
    throw new RangeError(
      `the SEAL WebAssembly heap is ${(used / 2 ** 20).toFixed(0)} MiB, above the limit of ${(limit / 2 ** 20).toFixed(0)} MiB; ` +
        'release ciphertexts (dispose) or use smaller batches; the heap never shrinks within a thread',
    );
  }
}

/**
 * `[type, what]` of a node-seal C++ exception, or undefined for any other value.
 * @example
 * ```ts
 * try { ev.multiplyPlainInplace(ct, zeros); } catch (e) { console.log(sealExceptionParts(e)); }
 * // ['std::logic_error', 'result ciphertext is transparent']
 * ```
 */
export function sealExceptionParts(e: unknown): readonly [string, string] | undefined {
  const Exc = WA.Exception;
  if (Exc === undefined || !(e instanceof Exc)) return undefined;
  const m: unknown = (e as unknown as { message?: unknown }).message;
  if (Array.isArray(m) && m.length >= 2) return [String(m[0]), String(m[1])];
  return ['unknown', String(m)];
}

/**
 * Maps a thrown value to a JavaScript error. `what` says what ppml was doing. SEAL exceptions raised while
 * reading bytes (`reading: true`) become {@link HeFormatError}; `std::invalid_argument`/`std::out_of_range`
 * become `RangeError`; other SEAL exceptions an `Error`. Non-SEAL errors are returned unchanged.
 * @example
 * ```ts
 * try { ct.loadFromArray(ctx, bytes); } catch (e) { throw sealError(e, 'loading a ciphertext', true); }
 * ```
 */
export function sealError(e: unknown, what: string, reading = false): Error {
  const parts = sealExceptionParts(e);
  if (parts === undefined) return e instanceof Error ? e : new Error(String(e));
  const [type, text] = parts;
  const message = `${what} failed in SEAL (${type}: ${text})`;
  if (reading) return new HeFormatError(message, { reason: 'corrupt', cause: e });
  if (type === 'std::invalid_argument' || type === 'std::out_of_range') return new RangeError(message, { cause: e });
  return new Error(message, { cause: e });
}

/**
 * Runs `fn`, mapping SEAL exceptions with {@link sealError}.
 * @example
 * ```ts
 * sealCall('rescaling', () => evaluator.rescaleToNextInplace(ct));
 * ```
 */
export function sealCall<T>(what: string, fn: () => T, reading = false): T {
  try {
    return fn();
  } catch (e) {
    throw sealError(e, what, reading);
  }
}
