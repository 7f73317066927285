/**
 * Messages between the coordinating thread and the party and dealer workers (internal). The coordinator sends
 * operations on handle ids and public values; parties answer with acknowledgements (round and byte counters),
 * revealed plaintext, or an error. No message from a party to the coordinator carries a share.
 * @module
 */
import type { SerializedError } from '@ppml/core';
import type { MaterialRequest } from './preprocessing.ts';

/** Test-only fault injection (see `SmpcSessionOptions.faultInjection`). */
export interface FaultInjection {
  /** The party that misbehaves. */
  readonly party: number;
  /** The first operation of this name on that party triggers the fault. */
  readonly operation: string;
  /**
   * 'throw': uncaught exception; 'exit': the thread exits; 'hang': stops answering; 'corrupt': sends a malformed
   * message. Active cheating (well-formed messages with wrong content): 'addError' adds 1 to one ring element of a
   * message it sends, 'flipBit' flips one bit of it, 'wrongOpen' sends a wrong share in its next opening.
   */
  readonly kind: 'throw' | 'exit' | 'hang' | 'corrupt' | 'addError' | 'flipBit' | 'wrongOpen';
  /** For 'addError' and 'flipBit': which message the party sends from the start of that operation (0 = the first). */
  readonly message?: number;
}

/** 'semi-honest' (parties follow the protocol) or 'malicious' (a deviating party is detected and the run aborts). */
export type SecurityModel = 'semi-honest' | 'malicious';

/** Worker start-up data. */
export interface PartyInit {
  readonly party: number;
  readonly parties: number;
  readonly protocol: 'additive' | 'replicated';
  readonly fractionalBits: number;
  readonly fault: FaultInjection | null;
  /** Whether a dealer worker supplies preprocessing (else the replicated parties make it themselves). */
  readonly dealer: boolean;
  readonly security: SecurityModel;
  readonly statisticalSecurity: number;
}

/** An operation on shared values; `out` is the id of the result handle. */
export type Operation =
  | { readonly op: 'input'; readonly out: number; readonly owner: number; readonly count: number; readonly values?: Float64Array }
  | { readonly op: 'free'; readonly ids: readonly number[] }
  | { readonly op: 'add' | 'sub' | 'mul' | 'lessThan'; readonly out: number; readonly a: number; readonly b: number }
  | {
      readonly op: 'addPublic' | 'mulPublic' | 'lessThanPublic';
      readonly out: number;
      readonly a: number;
      readonly values: Float64Array;
    }
  | {
      readonly op: 'neg' | 'relu' | 'sigmoid' | 'exp' | 'reciprocal' | 'square';
      readonly out: number;
      readonly a: number;
      /** sigmoid and exp only: the input's public range exceeds +-1024 (exp: reaches below -1024), use the saturating variant. */
      readonly clamp?: boolean;
    }
  | {
      readonly op: 'matmul';
      readonly out: number;
      readonly a: number;
      readonly b: number;
      readonly m: number;
      readonly k: number;
      readonly n: number;
    }
  | { readonly op: 'transpose'; readonly out: number; readonly a: number; readonly rows: number; readonly cols: number }
  | {
      readonly op: 'sum';
      readonly out: number;
      readonly a: number;
      readonly rows: number;
      readonly cols: number;
      readonly axis: -1 | 0 | 1;
    }
  | { readonly op: 'concat'; readonly out: number; readonly ids: readonly number[] }
  | { readonly op: 'slice'; readonly out: number; readonly a: number; readonly start: number; readonly end: number }
  | { readonly op: 'max' | 'argmax'; readonly out: number; readonly a: number; readonly rows: number; readonly cols: number }
  | { readonly op: 'reveal'; readonly a: number; readonly to: number }
  | {
      readonly op: 'preprocess';
      readonly requests: readonly MaterialRequest[];
      /** Shares of zero to expand ahead (replicated sharing): binary and arithmetic words. */
      readonly zeros: { readonly xor: number; readonly arith: number };
    };

/** Coordinator to party. */
export type ToParty =
  | { readonly type: 'init'; readonly ports: readonly (MessagePortLike | null)[] }
  | { readonly type: 'op'; readonly seq: number; readonly operation: Operation }
  /** Diagnostics: report heap use (after a full collection when the process runs with --expose-gc). */
  | { readonly type: 'memory' };

/** Party (or dealer) to coordinator. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress' }
  | {
      readonly type: 'done';
      readonly seq: number;
      readonly rounds: number;
      readonly bytes: number;
      readonly messages: number;
      /** Requests this party sent to the dealer during the operation (party 0 only). */
      readonly requests: number;
      /** Values the party holds after the operation. */
      readonly stored: number;
    }
  | { readonly type: 'result'; readonly seq: number; readonly values: Float64Array }
  | { readonly type: 'dealt'; readonly party: number; readonly bytes: number }
  | { readonly type: 'memory'; readonly heapUsed: number; readonly external: number; readonly collected: boolean }
  | { readonly type: 'error'; readonly seq: number; readonly error: SerializedError };

/** Structural stand-in for `MessagePort` in message types. */
export interface MessagePortLike {
  postMessage(value: unknown, transfer?: readonly unknown[]): void;
}
