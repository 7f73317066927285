/**
 * Worker entry of the dealer (internal): bridges the coordinating thread to the dealer loop
 * (`runtime/dealer-runtime.ts`) over the in-process mesh; a dealer process runs the same loop over TLS.
 * @module
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serializeError } from '@ppml/core';
import type { FromWorker } from './messages.ts';
import { runDealer } from './runtime/dealer-runtime.ts';
import { MessagePortTransport } from './transport/message-port.ts';
import { reportMemory } from './worker-memory.ts';

const { parties, protocol } = workerData as { parties: number; protocol: 'additive' | 'replicated' };
const port = parentPort as MessagePort;
const throwaway = new ArrayBuffer(8);
structuredClone(throwaway, { transfer: [throwaway] });

function post(m: FromWorker): void {
  port.postMessage(m);
}

port.once('message', (m: { ports: (MessagePort | null)[] }) => {
  port.on('message', (msg: { type?: string }) => {
    if (msg.type === 'memory') void reportMemory().then(post);
  });
  const transport = new MessagePortTransport(parties, m.ports, (e) => post({ type: 'error', seq: -1, error: serializeError(e) }));
  post({ type: 'ready' });
  runDealer({ transport, parties, protocol, onDealt: (party, bytes) => post({ type: 'dealt', party, bytes }) }).catch((e: unknown) =>
    post({ type: 'error', seq: -1, error: serializeError(e) }),
  );
});
