// Fixed inputs of the network scenarios (network-party.ts) and their plaintext results, shared by the party
// processes and the test that checks them.

/** One party's rows for the training scenario. */
export interface Part {
  readonly party: number;
  readonly features: Float64Array;
  readonly labels: Float64Array;
}

export function networkInputs(parties: number) {
  const x = Float64Array.of(1.5, -2, 3.25, 0.5, -7, 12);
  const y = Float64Array.of(4, 0.25, -1, 0.5, -6.5, 11);
  const rows = 3;
  const d = 2;
  const X = Float64Array.of(0.5, -1, 2, 0.25, -1.5, 3);
  const W = Float64Array.of(0.75, -0.5);
  const b = Float64Array.of(0.1);
  // Six rows of two standardized features, split over the parties (party i holds rows i, i + n, ...).
  const allX = [0.2, -1.1, 1.3, 0.4, -0.7, 0.9, 1.8, -0.2, -1.4, -0.6, 0.5, 1.2];
  const allY = [0, 1, 1, 0, 0, 1];
  const trainParts: Part[] = [];
  for (let p = 0; p < parties; p++) {
    const idx = [0, 1, 2, 3, 4, 5].filter((r) => r % parties === p);
    trainParts.push({
      party: p,
      features: Float64Array.from(idx.flatMap((r) => [allX[2 * r], allX[2 * r + 1]])),
      labels: Float64Array.from(idx, (r) => allY[r]),
    });
  }
  return { x, y, rows, d, X, W, b, trainParts, allX, allY };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** The plaintext results of the 'ops' scenario. */
export function expectedResults(parties: number) {
  const { x, y, rows, d, X, W, b, trainParts } = networkInputs(parties);
  const mm = Array.from({ length: rows }, (_, i) => X[i * d] * W[0] + X[i * d + 1] * W[1]);
  // Full-batch gradient descent as trainLogisticRegression runs it (rows in party order).
  const fx = trainParts.flatMap((p) => Array.from(p.features));
  const fy = trainParts.flatMap((p) => Array.from(p.labels));
  const m = fy.length;
  let w = [0, 0];
  let c = 0;
  for (let e = 0; e < 2; e++) {
    const err = fy.map((label, i) => sigmoid(fx[2 * i] * w[0] + fx[2 * i + 1] * w[1] + c) - label);
    const gw = [0, 1].map((j) => err.reduce((s, v, i) => s + v * fx[2 * i + j], 0) / m);
    const gb = err.reduce((s, v) => s + v, 0) / m;
    w = [w[0] - gw[0], w[1] - gw[1]];
    c -= gb;
  }
  return {
    mul: Array.from(x, (v, i) => v * y[i]),
    less: Array.from(x, (v, i) => (v < y[i] ? 1 : 0)),
    sig: Array.from(x, sigmoid),
    mm,
    lr: mm.map((v) => sigmoid(v + b[0])),
    weights: w,
    bias: [c],
    mine: Array.from(x, (v, i) => v + y[i]),
  };
}
