/** Child script: draws noise on the worker while the parent runs with --expose-gc (not valid in a worker). */
import { ParallelNoise } from '../../src/sgd/index.ts';

const noise = new ParallelNoise(1000, 1);
const out = new Float64Array(1000);
noise.next(out);
noise.next(out);
noise.close();
console.log(`ok ${out.filter((v) => Number.isFinite(v)).length} finite values`);
