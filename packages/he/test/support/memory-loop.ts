// A client/server round trip repeated `n` times on one row, measuring the SEAL WebAssembly heap after a warm-up.
import { HeClient, HeServer, wasmHeapBytes } from '../../src/index.ts';

/** Runs `n` encrypt → predict → decrypt round trips; returns the heap growth in bytes and the mean score. */
export async function runInferenceLoop(n: number): Promise<{ growth: number; mean: number }> {
  const client = await HeClient.create({ polyModulusDegree: 4096, depth: 1, scaleBits: 30, integerBits: 8, inputBound: 4 });
  const server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
  try {
    const model = server.linear({ weights: [0.5, -0.25, 1], bias: 0.5 });
    const row = [[1, 2, 3]]; // 0.5 - 0.5 + 3 + 0.5 = 3.5
    for (let i = 0; i < 50; i++) client.decryptScores(await model.predict(client.encryptRows(row)));
    const before = wasmHeapBytes();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += client.decryptScores(await model.predict(client.encryptRows(row)))[0];
    const growth = wasmHeapBytes() - before;
    model.dispose();
    return { growth, mean: sum / n };
  } finally {
    client.close();
    await server.close();
  }
}
