// Run as a plain script (`node --expose-gc --conditions=@ppml/source …`): both HE worker pools (the server's
// evaluation pool and the client's encryption pool) start and give right answers although the parent process has
// a flag that worker threads refuse. Prints one JSON line.
import { HeClient, HeServer } from '../../src/index.ts';

const client = await HeClient.create({ polyModulusDegree: 4096, depth: 1, scaleBits: 30, integerBits: 8, inputBound: 4, threads: 2 });
const server = await HeServer.create(client.exportEvaluationKeys(), { threads: 2 });
try {
  const rows = Array.from({ length: 2 * client.slots + 5 }, (_, i) => [((i % 7) - 3) / 2, 1]);
  const model = server.linear({ weights: [0.5, -0.25], bias: 0.5 });
  const scores = client.decryptScores(await model.predict(await client.encryptRowsAsync(rows)));
  let worst = 0;
  rows.forEach((r, i) => {
    worst = Math.max(worst, Math.abs(scores[i] - (0.5 * r[0] - 0.25 * r[1] + 0.5)));
  });
  console.log(JSON.stringify({ rows: scores.length, worst }));
} finally {
  client.close();
  await server.close();
}
