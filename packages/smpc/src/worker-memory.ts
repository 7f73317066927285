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
 * backing stores of typed arrays, where shares live).
 * @example
 * ```ts
 * port.postMessage(reportMemory()); // { type: 'memory', heapUsed, external, collected }
 * ```
 */
export function reportMemory(): FromWorker {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
  const h = getHeapStatistics();
  return { type: 'memory', heapUsed: h.used_heap_size, external: h.external_memory, collected: typeof gc === 'function' };
}
