/**
 * Worker entry of one party (internal): bridges the coordinating thread's messages to the party runtime
 * (`runtime/party-runtime.ts`) over the in-process mesh of `MessagePort`s. The same runtime runs in a network
 * process over TLS.
 * @module
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serializeError } from '@ppml/core';
import type { FromWorker, Operation, PartyInit } from './messages.ts';
import { runParty } from './runtime/party-runtime.ts';
import { MessagePortTransport } from './transport/message-port.ts';
import { reportMemory } from './worker-memory.ts';

const init = workerData as PartyInit;
const port = parentPort as MessagePort;

// Trip V8's ArrayBuffer detach protector once, before any kernel is optimized: the first detach in an isolate
// deoptimizes every function that touches typed arrays (measured 1.3 -> 6.6 M multiplications/s).
const throwaway = new ArrayBuffer(8);
structuredClone(throwaway, { transfer: [throwaway] });

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

let startFailed = false;

port.once('message', (m: { type: string; ports: (MessagePort | null)[] }) => {
  let report = (e: Error): void => {
    if (startFailed) return;
    startFailed = true;
    post({ type: 'error', seq: -1, error: serializeError(e) });
  };
  const transport = new MessagePortTransport(init.party, m.ports, (e) => report(e), init.parties);
  runParty({
    transport,
    dealer: init.dealer ? init.parties : null,
    protocol: init.protocol,
    fractionalBits: init.fractionalBits,
    security: init.security,
    statisticalSecurity: init.statisticalSecurity,
    fault: init.fault,
    report: post,
  }).then(
    (runtime) => {
      // From now on the runtime reports its own failures (transport failures included, once).
      report = () => {};
      port.on('message', (msg: { type: string; seq: number; operation: Operation }) => {
        if (msg.type === 'memory') void reportMemory().then(post);
        if (msg.type === 'op') runtime.submit(msg.seq, msg.operation);
      });
      post({ type: 'ready' });
    },
    (e: unknown) => report(e instanceof Error ? e : new Error(String(e))),
  );
});
