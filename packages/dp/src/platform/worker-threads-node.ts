/**
 * Node's `worker_threads` (selected by the `#worker-threads` import outside browsers), re-exported so that the
 * browser build can substitute `worker-threads-browser.ts` and keep `node:worker_threads` off browser paths.
 * @module
 */
export { type MessagePort, MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';

/**
 * Whether worker threads exist here (true in Node).
 * @example
 * ```ts
 * const parallel = options.parallelNoise && workerThreadsAvailable;
 * ```
 */
export const workerThreadsAvailable: boolean = true;
