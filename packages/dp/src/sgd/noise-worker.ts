/**
 * Worker entry of {@link ParallelNoise} (internal): fills a ring of shared buffers with secure Gaussian noise
 * (`sampleGaussianNoise` over this thread's own CSPRNG) ahead of the training loop. DP-SGD noise does not depend on
 * the data, so it can be drawn while the main thread computes gradients. Protocol: control word 0 = stop, 1 =
 * error, 2 + s = state of slot s (0 empty, 1 full); the worker fills empty slots in order and waits on full ones.
 * @module
 */
import { type MessagePort, workerData } from 'node:worker_threads';
import { serializeError } from '@ppml/core';
import { sampleGaussianNoise } from '../mechanisms/index.ts';

interface NoiseWorkerData {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  length: number;
  slots: number;
  sigma: number;
  /** Errors are posted here; the main thread reads them synchronously. */
  errors: MessagePort;
}

const { control, data, length, slots, sigma, errors } = workerData as NoiseWorkerData;
const ctl = new Int32Array(control);
const buffers = Array.from({ length: slots }, (_, s) => new Float64Array(data, s * length * 8, length));

try {
  for (let s = 0; ; s = (s + 1) % slots) {
    while (Atomics.load(ctl, 2 + s) !== 0 && Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 2 + s, 1, 1000);
    if (Atomics.load(ctl, 0) !== 0) break;
    sampleGaussianNoise(buffers[s], sigma);
    Atomics.store(ctl, 2 + s, 1);
    Atomics.notify(ctl, 2 + s);
  }
} catch (error) {
  errors.postMessage(serializeError(error));
  Atomics.store(ctl, 1, 1);
  for (let s = 0; s < slots; s++) Atomics.notify(ctl, 2 + s);
}
errors.close();
