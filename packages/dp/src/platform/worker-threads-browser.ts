/**
 * Stand-ins for Node's `worker_threads` in a browser bundle (selected by the `#worker-threads` import under the
 * `browser` condition): importing works, so the trainer loads in a page; constructing a worker throws a
 * `TypeError` that says `parallelNoise` needs Node. Training without `parallelNoise` (the default) draws its
 * noise on the calling thread and works in browsers.
 * @module
 */

const NODE_ONLY = 'parallelNoise needs Node worker threads; in a browser, train without parallelNoise (noise is then drawn in-thread)';

/**
 * Whether worker threads exist here (false in browsers).
 * @example
 * ```ts
 * const parallel = options.parallelNoise && workerThreadsAvailable;
 * ```
 */
export const workerThreadsAvailable: boolean = false;

/** Stand-in for Node's `MessagePort`. */
export interface MessagePort {
  postMessage(value: unknown): void;
  close(): void;
}

/**
 * Throws: Node only.
 * @example
 * ```ts
 * // Node only: new Worker(url, options)
 * ```
 */
export class Worker {
  constructor(..._args: unknown[]) {
    throw new TypeError(NODE_ONLY);
  }
  unref(): void {}
  terminate(): Promise<number> {
    return Promise.resolve(0);
  }
}

/**
 * Throws: Node only.
 * @example
 * ```ts
 * // Node only: new MessageChannel()
 * ```
 */
export class MessageChannel {
  readonly port1: MessagePort;
  readonly port2: MessagePort;
  constructor() {
    throw new TypeError(NODE_ONLY);
  }
}

/**
 * Returns undefined: there is never a message from a worker here.
 * @example
 * ```ts
 * receiveMessageOnPort(port); // undefined
 * ```
 */
export function receiveMessageOnPort(_port: MessagePort): { message: unknown } | undefined {
  return undefined;
}
