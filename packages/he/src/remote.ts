/**
 * The client of the encrypted-inference service (`@ppml/he/service`): {@link HeRemote} encrypts rows with an
 * {@link HeClient} in the caller's process, posts the ciphertexts, and decrypts the encrypted scores it gets back.
 * The plaintext rows, the scores and the secret key never leave the caller; the service sees the evaluation keys,
 * the ciphertexts, the number of rows and the model name. The same code runs in Node 24 and in browsers (it uses
 * only `fetch`, WebCrypto and `@noble/curves`).
 *
 * Registration uploads the evaluation keys once per client, with the Ed25519 public key that signs every later
 * request (`protocol.ts`); the key-set id is derived from both, so a client that reconnects with the same keys
 * (`HeClient.load`) and signing key reuses its registration without uploading the keys again.
 * @module
 */
import { assertOptions, describeValue } from '@ppml/core';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { HeClient } from './client.ts';
import type { CkksPlan } from './planner.ts';
import { type HttpReply, platform } from '#platform';
import {
  API_PREFIX,
  ED25519_KEY_BYTES,
  HeServiceError,
  SIGNATURE_HEADERS,
  type ServiceErrorBody,
  type ServiceReason,
  keySetIdOf,
  newSigningKey,
  sha256Async,
  signRequest,
  signingPublicKey,
} from './protocol.ts';

/** What the service says about one model (`GET /v1/models`). */
export interface RemoteModelInfo {
  readonly name: string;
  readonly kind: string;
  readonly features: number;
  readonly outputs: number;
  /** Rescales the model uses. */
  readonly depth: number;
  /** What the client applies after decryption: 'none', 'sigmoid' or 'softmax'. */
  readonly post: string;
  readonly description: string;
  /** Most rows one request may carry (the client splits larger calls). */
  readonly maxRowsPerRequest: number;
}

/** The service's description of itself (`GET /v1/models`). */
export interface ServiceInfo {
  readonly version: 1;
  /** The CKKS parameters every key set must use. */
  readonly plan: CkksPlan;
  /** SHA-256 of the parameters (hex), as carried by every wire message. */
  readonly parameterHash: string;
  /** |x| bound of every feature value the plan was made for. */
  readonly inputBound: number;
  readonly layout: 'column';
  readonly models: readonly RemoteModelInfo[];
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxKeySets: number;
    readonly requestTimeoutMs: number;
    readonly maxConcurrentBatches: number;
  };
}

/** Options of {@link HeRemote.connect}. */
export interface HeRemoteOptions {
  /** The client whose keys to use; when omitted one is created for the service's parameters (and closed by `close`). */
  client?: HeClient;
  /** 32-byte Ed25519 secret key that signs requests; default: a fresh one (keep it to reuse a registration). */
  signingKey?: Uint8Array;
  /**
   * The `fetch` to use (e.g. one that adds a proxy or credentials). Default: node:http in Node (cheaper for
   * multi-megabyte bodies), the global `fetch` in browsers.
   */
  fetch?: typeof fetch;
}

/** Headers as a plain record. */
type Headers = Record<string, string>;

/** One HTTP exchange: the platform's client, or a caller's `fetch`. */
type Send = (url: string, method: string, headers: Headers, body?: Uint8Array) => Promise<HttpReply>;

/** How long `connect` waits for the service's description, before it knows the service's own timeout. */
const CONNECT_TIMEOUT_MS = 60_000;

/**
 * How long a request may stall before the client gives up: the service answers within its request timeout for
 * receiving the body plus the same again for evaluating it (503 `timeout` past that), so twice its timeout and
 * a margin for the transfer of the reply.
 */
function replyTimeoutMs(info: ServiceInfo): number {
  const t = info.limits?.requestTimeoutMs;
  return typeof t === 'number' && Number.isSafeInteger(t) && t > 0 ? Math.min(2 * t + 30_000, 2 ** 31 - 1) : 150_000;
}

function sendWith(doFetch: typeof fetch | undefined, timeoutMs: number): Send {
  const send: Send =
    doFetch === undefined
      ? (url, method, headers, body) => platform.http(url, method, headers, body, timeoutMs)
      : async (url, method, headers, body) => {
          const signal = AbortSignal.timeout(timeoutMs);
          const r = await doFetch(url, {
            method,
            headers,
            signal,
            ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }),
          });
          return { status: r.status, contentType: r.headers.get('content-type') ?? '', body: new Uint8Array(await r.arrayBuffer()) };
        };
  // A stalled service is a typed refusal (504 'timeout'), not a hang.
  return (url, method, headers, body) =>
    send(url, method, headers, body).catch((e: unknown) => {
      if (e instanceof Error && e.name === 'TimeoutError') throw new HeServiceError(504, 'timeout', `${method} ${url}: ${e.message}`);
      throw e;
    });
}

/**
 * A connection to an encrypted-inference service.
 * @example
 * ```ts
 * const remote = await HeRemote.connect('http://127.0.0.1:8080');
 * const p = await remote.predict('risk', [[0.1, -0.3, 1.2]]); // Float64Array of probabilities
 * remote.close();
 * ```
 */
export class HeRemote {
  /** Base URL of the service, without a trailing slash. */
  readonly url: string;
  readonly info: ServiceInfo;
  readonly client: HeClient;
  /** The key-set id this connection uses. */
  readonly keySetId: string;
  /** Bytes of the evaluation keys (what registration uploads). */
  readonly evaluationKeyBytes: number;
  readonly #signingKey: Uint8Array;
  readonly #send: Send;
  readonly #ownsClient: boolean;
  readonly #evalKeys: Uint8Array;
  #closed = false;

  private constructor(init: {
    url: string;
    info: ServiceInfo;
    client: HeClient;
    owns: boolean;
    signingKey: Uint8Array;
    send: Send;
    keySetId: string;
    evalKeys: Uint8Array;
  }) {
    if (init === null || typeof init !== 'object' || !(init.client instanceof HeClient)) {
      throw new TypeError('HeRemote has no public constructor: use HeRemote.connect(url, options)');
    }
    this.url = init.url;
    this.info = init.info;
    this.client = init.client;
    this.#ownsClient = init.owns;
    this.#signingKey = init.signingKey;
    this.#send = init.send;
    this.keySetId = init.keySetId;
    this.#evalKeys = init.evalKeys;
    this.evaluationKeyBytes = init.evalKeys.length;
  }

  /**
   * Reads the service's models and parameters, makes (or checks) the client, and registers its evaluation keys
   * unless the service already holds them.
   * @example
   * ```ts
   * const remote = await HeRemote.connect(service.url, { client, signingKey });
   * ```
   */
  static async connect(url: string | URL, options: HeRemoteOptions = {}): Promise<HeRemote> {
    if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError(`url must be a string or a URL, got ${describeValue(url)}`);
    assertOptions('options', options as unknown, ['client', 'signingKey', 'fetch']);
    const base = new URL(url).href.replace(/\/+$/, '');
    if (options.client !== undefined && !(options.client instanceof HeClient)) {
      throw new TypeError(`options.client must be an HeClient, got ${describeValue(options.client)}`);
    }
    const signingKey = options.signingKey ?? newSigningKey();
    if (!(signingKey instanceof Uint8Array) || signingKey.length !== ED25519_KEY_BYTES) {
      throw new TypeError(
        `options.signingKey must be a Uint8Array of ${ED25519_KEY_BYTES} bytes (an Ed25519 secret key), got ${describeValue(signingKey)}`,
      );
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function')
      throw new TypeError(`options.fetch must be a function, got ${describeValue(options.fetch)}`);
    const info = (await jsonOf(await sendWith(options.fetch, CONNECT_TIMEOUT_MS)(`${base}${API_PREFIX}/models`, 'GET', {}))) as ServiceInfo;
    if (info === null || typeof info !== 'object' || info.version !== 1 || info.plan === undefined || !Array.isArray(info.models)) {
      throw new HeServiceError(502, 'bad-request', `${base} is not a ppml encrypted-inference service (v1)`);
    }
    const send = sendWith(options.fetch, replyTimeoutMs(info));
    const owns = options.client === undefined;
    const client =
      options.client ??
      (await HeClient.create({
        polyModulusDegree: info.plan.polyModulusDegree,
        depth: info.plan.depth,
        scaleBits: info.plan.scaleBits,
        integerBits: info.plan.integerBits,
        inputBound: info.plan.inputBound,
      }));
    try {
      if (client.parameterId !== info.parameterHash) {
        throw new RangeError(
          `the client's parameters (${client.describe()}) differ from the service's (hash ${info.parameterHash.slice(0, 16)}…): ` +
            `create the client with depth ${info.plan.depth}, polyModulusDegree ${info.plan.polyModulusDegree}, scaleBits ${info.plan.scaleBits}, ` +
            `integerBits ${info.plan.integerBits} and inputBound ${info.plan.inputBound}, or let connect create it`,
        );
      }
      if (client.layout !== 'column')
        throw new RangeError("the service evaluates the 'column' layout: create the client with layout 'column'");
      const evalKeys = client.exportEvaluationKeys();
      const keySetId = keySetIdOf(signingPublicKey(signingKey), hexToBytes(client.parameterId), client.keyId);
      const remote = new HeRemote({ url: base, info, client, owns, signingKey, send, keySetId, evalKeys });
      if (!(await remote.#registered())) await remote.register();
      return remote;
    } catch (e) {
      if (owns) client.close();
      throw e;
    }
  }

  async #signed(method: string, path: string, body: Uint8Array, keySetId: string): Promise<Headers> {
    return signRequest(this.#signingKey, { method, path, keySetId, bodyDigest: await sha256Async(body) });
  }

  async #registered(): Promise<boolean> {
    const path = `${API_PREFIX}/key-sets/${this.keySetId}`;
    const headers = await this.#signed('GET', path, new Uint8Array(0), this.keySetId);
    const r = await this.#send(`${this.url}${path}`, 'GET', headers);
    if (r.status === 404) return false;
    if (r.status !== 200) throw errorFor(r);
    return true;
  }

  /**
   * Uploads the evaluation keys and the signing public key (again). `connect` does this when needed; call it
   * after the service lost the key set (a restart with the in-memory store).
   * @example
   * ```ts
   * await remote.register();
   * ```
   */
  async register(): Promise<void> {
    this.#open();
    const path = `${API_PREFIX}/key-sets`;
    const headers = await this.#signed('POST', path, this.#evalKeys, '');
    headers[SIGNATURE_HEADERS.publicKey] = bytesToHex(signingPublicKey(this.#signingKey));
    headers['content-type'] = 'application/octet-stream';
    const reply = (await jsonOf(await this.#send(`${this.url}${path}`, 'POST', headers, this.#evalKeys))) as { keySetId?: unknown };
    if (reply.keySetId !== this.keySetId) {
      throw new HeServiceError(502, 'internal', `the service registered key set ${String(reply.keySetId)}, expected ${this.keySetId}`);
    }
  }

  #open(): void {
    if (this.#closed) throw new Error('this HeRemote is closed');
  }

  /**
   * Scores `rows` with the service's model `model`: encrypts here, posts the ciphertexts (in requests of at most
   * the model's `maxRowsPerRequest` rows), decrypts the replies here. Returns one value per row (row-major
   * rows × outputs for several outputs), after the client-side head (sigmoid/softmax) when the model has one.
   * Throws {@link HeServiceError} when the service refuses a request.
   * @example
   * ```ts
   * const p = await remote.predict('risk', rows);
   * ```
   */
  async predict(model: string, rows: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    this.#open();
    if (typeof model !== 'string') throw new TypeError(`model must be a string, got ${describeValue(model)}`);
    const m = this.info.models.find((x) => x.name === model);
    if (m === undefined)
      throw new RangeError(`model must be one of ${this.info.models.map((x) => `'${x.name}'`).join(', ')}, got '${model}'`);
    if (!Array.isArray(rows)) throw new TypeError(`rows must be an array of rows, got ${describeValue(rows)}`);
    const per = Math.max(1, m.maxRowsPerRequest);
    if (rows.length <= per) return this.#predictChunk(m, rows);
    const out = new Float64Array(rows.length * m.outputs);
    for (let r = 0; r < rows.length; r += per) {
      out.set(await this.#predictChunk(m, rows.slice(r, r + per)), r * m.outputs);
    }
    return out;
  }

  async #predictChunk(m: RemoteModelInfo, rows: ReadonlyArray<ArrayLike<number>>): Promise<Float64Array> {
    const body = this.client.encryptRows(rows);
    const reply = await this.predictEncrypted(m.name, body);
    return this.client.decryptScores(reply);
  }

  /**
   * Posts an encrypted-rows message (from `client.encryptRows`) and returns the encrypted-scores message; for
   * callers that encrypt and decrypt themselves (timing, other threads). Re-registers once if the service no
   * longer knows the key set.
   * @example
   * ```ts
   * const scores = remote.client.decryptScores(await remote.predictEncrypted('risk', remote.client.encryptRows(rows)));
   * ```
   */
  async predictEncrypted(model: string, encRows: Uint8Array): Promise<Uint8Array> {
    this.#open();
    if (typeof model !== 'string') throw new TypeError(`model must be a string, got ${describeValue(model)}`);
    if (!(encRows instanceof Uint8Array)) throw new TypeError(`encRows must be a Uint8Array, got ${describeValue(encRows)}`);
    const path = `${API_PREFIX}/models/${encodeURIComponent(model)}/predict`;
    for (let attempt = 0; ; attempt++) {
      const headers = await this.#signed('POST', path, encRows, this.keySetId);
      headers['content-type'] = 'application/octet-stream';
      const r = await this.#send(`${this.url}${path}`, 'POST', headers, encRows);
      if (r.status === 200) return r.body;
      const e = errorFor(r);
      if (e.reason === 'unknown-key-set' && attempt === 0) {
        await this.register();
        continue;
      }
      throw e;
    }
  }

  /**
   * Closes the client if `connect` created it; idempotent. The service keeps the key set.
   * @example
   * ```ts
   * remote.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) this.client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function jsonOf(r: HttpReply): unknown {
  if (r.status < 200 || r.status > 299) throw errorFor(r);
  try {
    return JSON.parse(new TextDecoder().decode(r.body));
  } catch {
    throw new HeServiceError(502, 'bad-request', `expected a JSON reply, got ${r.body.length} bytes of ${r.contentType || 'unknown type'}`);
  }
}

function errorFor(r: HttpReply): HeServiceError {
  const text = new TextDecoder().decode(r.body);
  try {
    const body = JSON.parse(text) as ServiceErrorBody;
    return new HeServiceError(r.status, body.error.reason, body.error.message);
  } catch {
    const reason: ServiceReason = r.status === 413 ? 'too-large' : r.status >= 500 ? 'internal' : 'bad-request';
    return new HeServiceError(r.status, reason, text.slice(0, 200) || `HTTP ${r.status}`);
  }
}
