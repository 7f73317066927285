/**
 * Runs entries of the bad-input suite in this process and reports, one JSON line per event on stdout, written
 * synchronously so that the parent sees the case that was running when the process hung or died:
 * `{ start, case, input }` before each call, `{ fail, case, kind, input, detail }` for each bad outcome, and
 * `{ done, cases }` after each entry. Usage: `child.ts <seed> <runsScale> <entry>...`.
 * @module
 */
import { writeSync } from 'node:fs';
import fc from 'fast-check';
import { type FuzzEntry, genericEntries, targetedEntries } from './entries.ts';
import { sweepOptions, UNKNOWN_KEYS } from './values.ts';

/** Messages of errors that the engine raises when a bad value reaches it unchecked. */
const ENGINE_MESSAGES: readonly RegExp[] = [
  /is not a function/,
  /Cannot read propert/,
  /Cannot set propert/,
  /is not iterable/,
  /Cannot convert/,
  /Cannot mix BigInt/,
  /cannot be converted to a BigInt/,
  /Do not know how to serialize a BigInt/,
  /Cannot destructure/,
  /is not a constructor/,
  /Invalid array length/,
  /Invalid typed array length/,
  /Array buffer allocation failed/,
  /Maximum call stack/,
  /Reduce of empty array/,
  /out of memory/i,
  /Invalid string length/,
  /is not defined/,
  /Cannot create property/,
  /not extensible/,
  /Invalid count value/,
  /radix must be/,
  /digits argument must be/,
  /Invalid time value/,
  /outside the bounds/,
  /called on null or undefined/,
  /cannot be invoked without 'new'/,
  /Cannot access '.*' before initialization/,
  /Cannot use 'in' operator/,
  /is not a valid/,
  /ERR_WORKER/,
  /Aborted\(/,
  /RuntimeError/,
  /unreachable/,
];

/** Library error classes a caller may branch on. */
const LIBRARY_ERRORS = new Set(['PrivacyBudgetExceededError', 'ProtocolAbortError', 'HeFormatError', 'DecryptionError']);

function emit(event: Record<string, unknown>): void {
  writeSync(1, `${JSON.stringify(event)}\n`);
}

function firstNonFinite(x: unknown, depth = 0, path = 'result'): string | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? undefined : `${path} = ${x}`;
  if (depth > 4 || x === null || typeof x !== 'object') return undefined;
  if (x instanceof Float64Array || x instanceof Float32Array) {
    const i = x.findIndex((v) => !Number.isFinite(v));
    return i < 0 ? undefined : `${path}[${i}] = ${x[i]}`;
  }
  if (ArrayBuffer.isView(x)) return undefined;
  const keys = Array.isArray(x) ? x.keys() : Object.keys(x);
  for (const k of keys) {
    const r = firstNonFinite((x as Record<string, unknown>)[k as string], depth + 1, `${path}.${String(k)}`);
    if (r !== undefined) return r;
  }
  return undefined;
}

function judgeError(e: unknown): string | undefined {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  const kind = e.name;
  if (ENGINE_MESSAGES.some((re) => re.test(e.message))) return `engine error reached the caller: ${kind}: ${e.message}`;
  // SyntaxError for text that does not parse; Node's system errors (ENOENT, ...) for I/O on a path given.
  const systemError = typeof (e as { code?: unknown }).code === 'string' && /^E[A-Z]+$/.test((e as unknown as { code: string }).code);
  if (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || systemError || LIBRARY_ERRORS.has(kind)) {
    return e.message.length > 0 ? undefined : `${kind} without a message`;
  }
  return `untyped error: ${kind}: ${e.message}`;
}

async function release(x: unknown): Promise<void> {
  if (x === null || typeof x !== 'object') return;
  const o = x as { close?: unknown; dispose?: unknown };
  try {
    if (typeof o.close === 'function') await (o.close as () => unknown).call(o);
    else if (typeof o.dispose === 'function') (o.dispose as () => unknown).call(o);
  } catch {
    // releasing is best effort here; the judged outcome is the call's
  }
}

function hashName(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

async function entryByName(name: string): Promise<FuzzEntry> {
  const targeted = targetedEntries[name];
  if (targeted !== undefined) return targeted;
  const m = /^generic (core|dp|he|smpc)\./.exec(name);
  const generic = m === null ? undefined : (await genericEntries(m[1] as 'core'))[name];
  if (generic === undefined) throw new Error(`unknown fuzz entry ${name}`);
  return generic;
}

async function runEntry(name: string, seed: number, scale: number): Promise<void> {
  const entry = await entryByName(name);
  const ctx = entry.setup === undefined ? undefined : await entry.setup();
  const runs = Math.max(1, Math.round((entry.runs ?? 60) * scale));
  const cases: unknown[][] = fc.sample(entry.inputs, { seed: (seed ^ hashName(name)) >>> 0, numRuns: runs });
  if (entry.sweep !== undefined) {
    const { at, base } = entry.sweep;
    for (const o of sweepOptions(base[at] as Record<string, unknown>)) cases.push(base.map((b, i) => (i === at ? o : b)));
  }
  for (let i = 0; i < cases.length; i++) {
    const args = cases[i] as unknown[];
    const input = fc.stringify(args);
    emit({ start: name, case: i, input });
    let verdict: string | undefined;
    try {
      const result = await entry.call(ctx, ...args);
      const unknownKey = args.find((a) => a !== null && typeof a === 'object' && UNKNOWN_KEYS.some((k) => Object.hasOwn(a, k)));
      if (unknownKey !== undefined) verdict = 'an options object with an unknown key was accepted silently';
      if (verdict === undefined && !entry.allowNonFinite) {
        const bad = firstNonFinite(result);
        const trueInfinity = entry.infiniteIsTrue?.(...args) === true && result === Infinity;
        if (bad !== undefined && !trueInfinity) verdict = `non-finite value returned: ${bad}`;
      }
      await release(result);
    } catch (e) {
      verdict = judgeError(e);
    }
    if (verdict !== undefined) emit({ fail: name, case: i, input, detail: verdict });
  }
  await release(ctx);
  emit({ done: name, cases: cases.length });
}

const [seedArg, scaleArg, ...names] = process.argv.slice(2);
const seed = Number(seedArg);
const scale = Number(scaleArg);
for (const name of names) await runEntry(name, seed, scale);
emit({ allDone: true });
// Entries may leave pools or sessions behind after a refused call; the verdicts are in, so end here.
process.exit(0);
