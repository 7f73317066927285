/**
 * Worker entry of the dealer (internal): the trusted source of correlated randomness for the offline phase,
 * as CrypTen's TTP or MP-SPDZ's dealer protocol. It never receives inputs or shares; it answers party 0's
 * requests (what is needed, in the order it is consumed) by sending each party its seeds and corrections.
 * @module
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { reportMemory } from './worker-memory.ts';
import { serializeError } from '@ppml/core';
import type { FromWorker } from './messages.ts';
import { dealMaterial, type MaterialRequest } from './preprocessing.ts';
import { MessagePortTransport } from './transport/message-port.ts';

const { parties, protocol } = workerData as { parties: number; protocol: 'additive' | 'replicated' };
const port = parentPort as MessagePort;
const throwaway = new ArrayBuffer(8);
structuredClone(throwaway, { transfer: [throwaway] });

function post(m: FromWorker): void {
  port.postMessage(m);
}

port.once('message', (m: { ports: (MessagePort | null)[] }) => {
  port.on('message', (msg: { type?: string }) => {
    if (msg.type === 'memory') post(reportMemory());
  });
  const transport = new MessagePortTransport(parties, m.ports, (e) => post({ type: 'error', seq: -1, error: serializeError(e) }));
  post({ type: 'ready' });
  void (async () => {
    for (let k = 0; ; k++) {
      const bytes = await transport.receive(0, `req.${k}`);
      const req = JSON.parse(new TextDecoder().decode(bytes)) as MaterialRequest;
      if (!(Number.isSafeInteger(req.count) && req.count > 0)) throw new RangeError(`request count must be a positive integer`);
      const perParty = dealMaterial(req, parties, protocol === 'replicated');
      perParty.forEach((b, p) => {
        post({ type: 'dealt', party: p, bytes: b.byteLength });
        transport.send(p, `pre.${k}`, b);
      });
    }
  })().catch((e: unknown) => post({ type: 'error', seq: -1, error: serializeError(e) }));
});
