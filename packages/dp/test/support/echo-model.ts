import type { TrainableModel } from '../../src/sgd/index.ts';

/** A one-parameter model whose per-example gradient is the example's single feature. */
export function echoModel(): TrainableModel {
  return {
    features: 1,
    classes: 0,
    parameters: new Float64Array(1),
    parameterGroups: [{ name: 'w', offset: 0, length: 1 }],
    perSampleGradients: (x, _y, rows) => Array.from({ length: rows }, (_, i) => Float64Array.of(x[i])),
  };
}
