/**
 * Heap report of a party or dealer worker (internal), for {@link SmpcSession.memoryUsage}. When the process
 * runs with `--expose-gc` (a V8 flag, so `gc` then exists in every worker of the process) the worker collects
 * its garbage first, which turns the figure into live memory: what a leak test needs, since a worker's heap
 * otherwise grows and shrinks with V8's collection schedule, which load moves.
 * @module
 */
import { getHeapStatistics } from 'node:v8';
import type { FromWorker } from './messages.ts';

/**
 * Collects garbage when `gc` is exposed, then reports this thread's used heap and external memory (the
 * backing stores of typed arrays, where shares live). V8 frees the backing stores of dead ArrayBuffers on a
 * background sweeper after a collection, so the external figure read right after `gc()` still counted some of
 * them (swings of several MB between identical rounds): the report collects, yields to the event loop, and
 * collects again before reading.
 * @example
 * ```ts
 * port.postMessage(await reportMemory()); // { type: 'memory', heapUsed, external, collected }
 * ```
 */
export async function reportMemory(): Promise<FromWorker> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    gc();
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    gc();
  }
  const h = getHeapStatistics();
  return { type: 'memory', heapUsed: h.used_heap_size, external: h.external_memory, collected: typeof gc === 'function' };
}
