/**
 * Encrypted inference as an HTTP service (fastify 5): clients register their evaluation keys once, then post
 * encrypted rows and get encrypted scores back; the service never holds a secret key and never sees a plaintext.
 *
 * Routes (all under `/v1`; bodies are `@ppml/he` wire messages, `application/octet-stream`):
 * - `GET /v1/models`: the parameters every key set must use (plan, parameter hash, input bound) and the models
 *   (features, outputs, depth, client-side head, most rows per request).
 * - `POST /v1/key-sets`: body = evaluation keys; headers carry the Ed25519 public key that will sign the set's
 *   requests and a signature by it (proof of possession). Replies `{ keySetId }` (201, or 200 when known).
 * - `GET /v1/key-sets/:id` (signed): whether the service holds the set (200) or not (404).
 * - `POST /v1/models/:name/predict` (signed): body = encrypted rows; reply = encrypted scores. The batches go to
 *   a worker pool shared by all key sets (each task carries its key set's evaluation keys in shared memory).
 *
 * Status codes a client can act on: 400 with the wire format's typed reason for corrupt or mismatched bytes, 401
 * for a missing, stale or replayed signature, 403 for a signature that does not match the key set, 404 for an
 * unknown model or key set, 413 over the body limit, 415 for another content type, 429 when the batch queue is
 * full, 503 while closing or after a timeout; 500 only for the service's own faults. `close()` stops accepting,
 * lets the requests in flight finish, then stops the workers.
 *
 * Security (SEAL `SECURITY.md`): CKKS is not IND-CPA-D secure, so clients must not send decrypted results back;
 * there is no circuit privacy (replies are switched to the last level, which removes the unused modulus but not
 * all information about the weights); signatures authenticate requests, not the service: use TLS.
 * @module
 */
import { createHash } from 'node:crypto';
import { assertInteger, assertOptions, describeValue } from '@ppml/core';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BatchPool } from '../batch-pool.ts';
import { type HeContext, acquireContext } from '../context.ts';
import { loadEvaluationKeys } from '../engine.ts';
import { HeFormatError } from '../errors.ts';
import { readRows, writeScores } from '../layout.ts';
import {
  type ImportOptions,
  type LinearWeights,
  type LogisticOptions,
  type MlpOptions,
  type ModelSpec,
  layoutFor,
  linearSpec,
  logisticSpec,
  mlpSpec,
  modelDepth,
  specFromJSON,
} from '../models.ts';
import { type CkksPlan, type PlanOptions, planParameters } from '../planner.ts';
import { API_PREFIX, SIGNATURE_HEADERS, type ServiceReason, keySetIdOf, verifyRequest } from '../protocol.ts';
import type { RemoteModelInfo, ServiceInfo } from '../remote.ts';
import { DEFAULT_HEAP_LIMIT_BYTES, checkHeapLimit } from '../seal.ts';
import type { KeySetRef } from '../worker.ts';
import { type UncheckedBytes, WireKind, equalBytes, openMessage, readHeader } from '../wire.ts';
import { type KeySetRecord, type KeyStore, MemoryKeyStore, isKeySetId } from './key-store.ts';
import { type BodyLease, BodyPool } from './body-pool.ts';
import { ReplayGuard } from './replay.ts';

/** A model of the service: a spec from the factories of `@ppml/he`, or the options of one of them, or JSON. */
export type ServiceModel =
  | ModelSpec
  | ({ kind: 'linear' } & LinearWeights)
  | ({ kind: 'logistic' } & LogisticOptions)
  | ({ kind: 'mlp' } & MlpOptions)
  | { kind: 'json'; json: unknown; options?: ImportOptions };

/** Limits of {@link createHeService}. */
export interface ServiceLimits {
  /** Largest request body in bytes (default 64 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /** Key sets held by the default in-memory store (default 1,000; least recently used dropped first). */
  maxKeySets?: number;
  /** Bytes of evaluation keys held by the default store (default 2 GiB). */
  maxKeyBytes?: number;
  /** Time to receive a request and to evaluate its batches (default 60 s); past it, 503 `timeout`. */
  requestTimeoutMs?: number;
  /** Batches queued or running at once over all requests (default 64); a request that would exceed it gets 429. */
  maxConcurrentBatches?: number;
  /** Accepted difference between a request's timestamp and the service's clock (default 5 min). */
  maxClockSkewMs?: number;
}

/** Options of {@link createHeService}. */
export interface HeServiceOptions {
  /** The models, by name (letters, digits, `-`, `_`). */
  models: Record<string, ServiceModel>;
  /** Parameters every client must use; default: the depth of the deepest model, `inputBound` as given. */
  plan?: PlanOptions;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port (default 0: chosen by the OS). */
  port?: number;
  /** Worker threads evaluating batches (default 2). */
  threads?: number;
  /** Key sets each worker keeps loaded (default 8). */
  keySetsPerWorker?: number;
  limits?: ServiceLimits;
  /** Where key sets live (default: a {@link MemoryKeyStore} bounded by the limits). */
  keyStore?: KeyStore;
  /** Soft cap on the SEAL heap of each thread (default 3 GiB). */
  heapLimitBytes?: number;
  /**
   * Origins of web pages allowed to call the service from a browser (CORS, via `@fastify/cors`), e.g.
   * `['https://clinic.example']`; default none (same-origin pages and non-browser clients only).
   */
  allowOrigins?: readonly string[];
}

const OPTION_KEYS = [
  'models',
  'plan',
  'host',
  'port',
  'threads',
  'keySetsPerWorker',
  'limits',
  'keyStore',
  'heapLimitBytes',
  'allowOrigins',
] as const;
const LIMIT_KEYS = ['maxBodyBytes', 'maxKeySets', 'maxKeyBytes', 'requestTimeoutMs', 'maxConcurrentBatches', 'maxClockSkewMs'] as const;

/** A running service. */
export interface HeService extends AsyncDisposable {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly info: ServiceInfo;
  /** Counters: predictions served, batches evaluated, requests refused, registrations, batches in flight now. */
  readonly stats: {
    readonly predictions: number;
    readonly batches: number;
    readonly refused: number;
    readonly registrations: number;
    readonly inFlightBatches: number;
  };
  /** Stops accepting requests, finishes those in flight, stops the workers; idempotent. */
  close(): Promise<void>;
}

interface ServedModel {
  readonly name: string;
  readonly id: string;
  readonly spec: ModelSpec;
  readonly info: RemoteModelInfo;
}

/** A refusal with its status and typed reason. */
class Refusal extends Error {
  readonly status: number;
  readonly reason: ServiceReason;
  constructor(status: number, reason: ServiceReason, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

function buildSpec(name: string, m: ServiceModel): ModelSpec {
  if (m === null || typeof m !== 'object') throw new TypeError(`models.${name} must be a model object, got ${describeValue(m)}`);
  const { kind } = m as { kind?: unknown };
  const rest = (): Record<string, unknown> => {
    const o: Record<string, unknown> = { ...(m as unknown as Record<string, unknown>) };
    delete o.kind;
    return o;
  };
  switch (kind) {
    case 'linear':
      return linearSpec(rest() as unknown as LinearWeights);
    case 'logistic':
      return logisticSpec(rest() as unknown as LogisticOptions);
    case 'mlp':
      return mlpSpec(rest() as unknown as MlpOptions);
    case 'json': {
      const j = m as { json: unknown; options?: ImportOptions };
      return specFromJSON(j.json, j.options);
    }
    case 'linear-regression':
    case 'logistic-regression':
    case 'softmax-regression':
      if (Array.isArray((m as { layers?: unknown }).layers) && 'post' in m) return m as ModelSpec;
      return specFromJSON(m);
    default:
      if (Array.isArray((m as { layers?: unknown }).layers) && 'post' in m) return m as ModelSpec;
      throw new RangeError(
        `models.${name}.kind must be 'linear', 'logistic', 'mlp' or 'json' (or a spec from linearSpec/logisticSpec/mlpSpec), got ${describeValue(kind)}`,
      );
  }
}

function headerString(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Starts the service and resolves once it listens.
 * @example
 * ```ts
 * import { createHeService } from '@ppml/he/service';
 * const service = await createHeService({ models: { risk: { kind: 'logistic', weights, bias } }, port: 0 });
 * console.log(service.url);
 * await service.close();
 * ```
 */
export async function createHeService(options: HeServiceOptions): Promise<HeService> {
  assertOptions('options', options as unknown, OPTION_KEYS);
  const limits = options.limits ?? {};
  assertOptions('options.limits', limits as unknown, LIMIT_KEYS);
  const maxBodyBytes = limits.maxBodyBytes ?? 64 * 2 ** 20;
  assertInteger('limits.maxBodyBytes', maxBodyBytes, 1024, 2 ** 31);
  const maxKeySets = limits.maxKeySets ?? 1000;
  assertInteger('limits.maxKeySets', maxKeySets, 1, 2 ** 24);
  const maxKeyBytes = limits.maxKeyBytes ?? 2 ** 31;
  assertInteger('limits.maxKeyBytes', maxKeyBytes, 1, Number.MAX_SAFE_INTEGER);
  const requestTimeoutMs = limits.requestTimeoutMs ?? 60_000;
  assertInteger('limits.requestTimeoutMs', requestTimeoutMs, 1, 2 ** 31 - 1);
  const maxConcurrentBatches = limits.maxConcurrentBatches ?? 64;
  assertInteger('limits.maxConcurrentBatches', maxConcurrentBatches, 1, 2 ** 20);
  const maxClockSkewMs = limits.maxClockSkewMs ?? 300_000;
  assertInteger('limits.maxClockSkewMs', maxClockSkewMs, 1, 2 ** 31 - 1);
  const threads = options.threads ?? 2;
  assertInteger('threads', threads, 1, 64);
  const keySetsPerWorker = options.keySetsPerWorker ?? 8;
  assertInteger('keySetsPerWorker', keySetsPerWorker, 1, 1024);
  const heapLimitBytes = checkHeapLimit(options.heapLimitBytes ?? DEFAULT_HEAP_LIMIT_BYTES);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string') throw new TypeError(`host must be a string, got ${describeValue(host)}`);
  const port = options.port ?? 0;
  assertInteger('port', port, 0, 65535);
  const store = options.keyStore ?? new MemoryKeyStore({ maxKeySets, maxBytes: maxKeyBytes });
  if (store === null || typeof store !== 'object' || typeof store.get !== 'function' || typeof store.put !== 'function') {
    throw new TypeError(`keyStore must implement KeyStore (get, put, delete, close), got ${describeValue(store)}`);
  }
  const allowOrigins = options.allowOrigins ?? [];
  if (!Array.isArray(allowOrigins) || !allowOrigins.every((o) => typeof o === 'string' && /^https?:\/\/[^/]+$/.test(o))) {
    throw new TypeError(`allowOrigins must be an array of origins such as 'https://host:port', got ${describeValue(allowOrigins)}`);
  }
  const models = options.models;
  if (models === null || typeof models !== 'object' || Object.keys(models).length === 0) {
    throw new TypeError(`models must be a non-empty object of named models, got ${describeValue(models)}`);
  }
  const specs = new Map<string, ModelSpec>();
  for (const [name, m] of Object.entries(models)) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new RangeError(`model names must be 1-64 letters, digits, '-' or '_', got '${name}'`);
    specs.set(name, buildSpec(name, m));
  }
  const depth = Math.max(...[...specs.values()].map(modelDepth));
  const planOptions: PlanOptions = { depth, ...options.plan };
  const plan: CkksPlan = planParameters(planOptions);

  const ctx: HeContext = await acquireContext(plan);
  const served = new Map<string, ServedModel>();
  let pool: BatchPool | undefined;
  let app: FastifyInstance | undefined;
  try {
    // Check every model against the plan now (depth, headroom): a bad model is the operator's error, at start.
    for (const [name, spec] of specs) {
      const layout = layoutFor(spec, plan, (level) => ctx.headroom(level));
      const features = spec.layers[0].inputs;
      const outputs = spec.layers[spec.layers.length - 1].outputs;
      // A full (unseeded) fresh ciphertext at the top level, the larger of the two upload forms.
      const ctBytes = 2 * plan.polyModulusDegree * (plan.depth + 1) * 8 + 256;
      const batchesPerRequest = Math.max(
        1,
        Math.min(maxConcurrentBatches, Math.floor((maxBodyBytes - 4096) / (features * (ctBytes + 16)))),
      );
      const sizes = [features, ...spec.layers.map((l) => l.outputs)].join('→');
      served.set(name, {
        name,
        id: `model:${name}`,
        spec,
        info: {
          name,
          kind: spec.kind,
          features,
          outputs,
          depth: layout.depth,
          post: spec.post,
          description: `${spec.kind} ${sizes}, depth ${layout.depth}${spec.post === 'none' ? '' : `, client applies ${spec.post}`}`,
          maxRowsPerRequest: batchesPerRequest * ctx.slots,
        },
      });
    }
    const info: ServiceInfo = {
      version: 1,
      plan,
      parameterHash: ctx.id,
      inputBound: plan.inputBound,
      layout: 'column',
      models: [...served.values()].map((m) => m.info),
      limits: { maxBodyBytes, maxKeySets, requestTimeoutMs, maxConcurrentBatches },
    };
    pool = new BatchPool({ threads, heapLimitBytes, keySetsPerWorker });
    const workers = pool;
    const guard = new ReplayGuard({ maxSkewMs: maxClockSkewMs, perKeySet: 4096, maxKeySets });
    const stats = { predictions: 0, batches: 0, refused: 0, registrations: 0, inFlightBatches: 0 };
    // Key sets in use, with their evaluation keys copied once into shared memory for the workers.
    const cache = new Map<string, { record: KeySetRecord; ref: KeySetRef; keyId: Uint8Array }>();
    const cacheLimit = store instanceof MemoryKeyStore ? maxKeySets : Math.min(maxKeySets, 64);
    let cacheBytes = 0;
    let closing = false;

    const keySet = async (id: string): Promise<{ record: KeySetRecord; ref: KeySetRef; keyId: Uint8Array }> => {
      const hit = cache.get(id);
      if (hit !== undefined) {
        // The store decides what is still registered (its LRU may have dropped the set).
        if (store instanceof MemoryKeyStore ? (await store.get(id)) === hit.record : true) {
          cache.delete(id);
          cache.set(id, hit);
          return hit;
        }
        cache.delete(id);
        cacheBytes -= hit.ref.evalKeys.length;
      }
      const record = await store.get(id);
      if (record === undefined)
        throw new Refusal(404, 'unknown-key-set', `no key set ${id}: register the evaluation keys (POST ${API_PREFIX}/key-sets)`);
      // Keys registered here already sit in shared memory (the in-memory store holds that copy): no second one.
      let shared = record.evalKeys;
      if (!(shared.buffer instanceof SharedArrayBuffer)) {
        shared = new Uint8Array(new SharedArrayBuffer(record.evalKeys.length));
        shared.set(record.evalKeys);
      }
      const entry = { record, ref: { id, evalKeys: shared }, keyId: readHeader(record.evalKeys, 'evalKeys').keyId.slice() };
      cache.set(id, entry);
      cacheBytes += shared.length;
      // Bounded by bytes as well as count: entries the store has dropped stay here until pushed out.
      while (cache.size > cacheLimit || (cache.size > 1 && cacheBytes > maxKeyBytes)) {
        const [old, e] = cache.entries().next().value as [string, { ref: KeySetRef }];
        cache.delete(old);
        cacheBytes -= e.ref.evalKeys.length;
      }
      return entry;
    };

    const digest = (body: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(body).digest());

    /** Checks the signature headers of a request for key set `id` (with public key `publicKey`). */
    const authenticate = (req: FastifyRequest, body: Uint8Array, keySetId: string, publicKey: Uint8Array, recordNonce: boolean): void => {
      const ts = headerString(req, SIGNATURE_HEADERS.timestamp);
      const nonce = headerString(req, SIGNATURE_HEADERS.nonce);
      const sig = headerString(req, SIGNATURE_HEADERS.signature);
      if (ts === undefined || nonce === undefined || sig === undefined || !/^\d{1,16}$/.test(ts) || !/^[0-9a-f]{32}$/.test(nonce)) {
        throw new Refusal(
          401,
          'signature',
          `requests must carry ${SIGNATURE_HEADERS.timestamp} (ms), ${SIGNATURE_HEADERS.nonce} (32 hex digits) and ${SIGNATURE_HEADERS.signature}`,
        );
      }
      const timestamp = Number(ts);
      const path = req.url.split('?')[0];
      const ok = verifyRequest(publicKey, sig, { method: req.method, path, keySetId, timestamp, nonce, bodyDigest: digest(body) });
      if (!ok) throw new Refusal(403, 'signature', "the signature does not verify under the key set's registered public key");
      if (recordNonce) {
        const verdict = guard.check(keySetId, timestamp, nonce, Date.now());
        if (verdict === 'stale')
          throw new Refusal(
            401,
            'stale',
            `the request's timestamp is outside the accepted window of ±${maxClockSkewMs} ms (or older than a request already seen)`,
          );
        if (verdict === 'replay') throw new Refusal(401, 'replay', 'this nonce was used before: a request is accepted once');
      } else if (!(Math.abs(Date.now() - timestamp) <= maxClockSkewMs)) {
        throw new Refusal(401, 'stale', `the request's timestamp is outside the accepted window of ±${maxClockSkewMs} ms`);
      }
    };

    const bodyOf = (req: FastifyRequest): Uint8Array => {
      const b = req.body;
      if (!(b instanceof Uint8Array)) throw new Refusal(415, 'bad-request', 'the body must be application/octet-stream');
      return b;
    };
    const bodies = new BodyPool(Math.max(4, 2 * threads));
    const leases = new WeakMap<object, BodyLease>();

    app = Fastify({
      logger: false,
      bodyLimit: maxBodyBytes,
      requestTimeout: requestTimeoutMs,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
    });
    if (allowOrigins.length > 0) {
      await app.register(cors, {
        origin: [...allowOrigins],
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', ...Object.values(SIGNATURE_HEADERS)],
        maxAge: 600,
      });
    }
    // Bodies go straight into reused shared memory that the workers read in place (body-pool.ts).
    app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
      const declared = req.headers['content-length'];
      const length = declared === undefined ? undefined : Number(declared);
      if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
        done(new Refusal(400, 'bad-request', 'content-length must be a byte count'), undefined);
        return;
      }
      if (length !== undefined && length > maxBodyBytes) {
        done(new Refusal(413, 'too-large', `the body of ${length} bytes is over the limit of ${maxBodyBytes}`), undefined);
        return;
      }
      let lease: BodyLease | undefined = length === undefined ? undefined : bodies.lease(length);
      const chunks: Buffer[] = [];
      let received = 0;
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        lease?.release();
        lease = undefined;
        done(e, undefined);
      };
      payload.on('data', (chunk: Buffer) => {
        if (failed) return;
        if (received + chunk.length > (length ?? maxBodyBytes)) {
          fail(
            length === undefined
              ? new Refusal(413, 'too-large', `the body is over the limit of ${maxBodyBytes} bytes`)
              : new Refusal(400, 'bad-request', 'the body is longer than its content-length'),
          );
          return;
        }
        if (lease === undefined) chunks.push(chunk);
        else lease.bytes.set(chunk, received);
        received += chunk.length;
      });
      payload.on('error', (e: Error) => fail(e));
      payload.on('end', () => {
        if (failed) return;
        if (lease === undefined) {
          // Chunked upload without a content-length: copied once more, into shared memory, at the end.
          lease = bodies.lease(received);
          let at = 0;
          for (const c of chunks) {
            lease.bytes.set(c, at);
            at += c.length;
          }
        } else if (received !== length) {
          fail(new Refusal(400, 'truncated', `the body ended after ${received} of its ${length} bytes`));
          return;
        }
        leases.set(req.raw, lease);
        done(null, lease.bytes);
      });
    });
    app.addHook('onResponse', async (req) => {
      leases.get(req.raw)?.release();
      leases.delete(req.raw);
    });
    app.setNotFoundHandler((req, reply) => {
      stats.refused++;
      void reply.code(404).send({ error: { reason: 'bad-request', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
    });
    app.setErrorHandler((err: FastifyError | Error, _req: FastifyRequest, reply: FastifyReply) => {
      stats.refused++;
      let status: number;
      let reason: ServiceReason;
      const code = (err as FastifyError).statusCode;
      if (err instanceof Refusal) {
        status = err.status;
        reason = err.reason;
      } else if (
        typeof (err as FastifyError).code === 'string' &&
        (err as FastifyError).code.startsWith('FST_') &&
        typeof code === 'number' &&
        code >= 400 &&
        code < 500
      ) {
        // fastify's own refusals (body over the limit, unsupported media type, bad JSON) carry their status.
        status = code;
        reason = code === 413 ? 'too-large' : 'bad-request';
      } else if (err instanceof HeFormatError) {
        status = 400;
        reason = err.reason;
      } else if (err instanceof RangeError || err instanceof TypeError) {
        status = 400;
        reason = 'bad-request';
      } else if (closing) {
        status = 503;
        reason = 'shutting-down';
      } else {
        status = 500;
        reason = 'internal';
      }
      if (status === 429 || status === 503) void reply.header('retry-after', '1');
      void reply.code(status).send({ error: { reason, message: status === 500 ? 'internal error' : err.message } });
    });

    // While closing, every reply ends its connection: server.close() waits for connections, and a keep-alive
    // connection whose request finished after close() began would otherwise stay open until its idle timeout.
    app.addHook('onSend', async (_req, reply) => {
      if (closing) void reply.header('connection', 'close');
    });

    app.get(`${API_PREFIX}/models`, async () => info);

    app.post(`${API_PREFIX}/key-sets`, async (req, reply) => {
      const body = bodyOf(req);
      const pubHex = headerString(req, SIGNATURE_HEADERS.publicKey);
      if (pubHex === undefined || !/^[0-9a-f]{64}$/.test(pubHex)) {
        throw new Refusal(
          401,
          'signature',
          `registration must carry ${SIGNATURE_HEADERS.publicKey}: the Ed25519 public key (64 hex digits)`,
        );
      }
      const publicKey = Uint8Array.from(pubHex.match(/../g) as string[], (h) => Number.parseInt(h, 16));
      authenticate(req, body, '', publicKey, false);
      // Framing, kind and parameters first (cheap), then the keys themselves through SEAL's checks.
      const { header } = openMessage(body, WireKind.evaluationKeys, undefined, undefined, 'evalKeys');
      if (!equalBytes(header.parameterHash, ctx.parameterHash)) {
        throw new HeFormatError(
          `evalKeys were made under other encryption parameters than the service's (${ctx.id.slice(0, 16)}…): see GET ${API_PREFIX}/models`,
          { reason: 'parameters' },
        );
      }
      // A private copy (the body's shared memory goes back to the pool after the reply), itself in shared memory
      // so that the workers read the keys the store holds without another copy.
      const keyBytes = new Uint8Array(new SharedArrayBuffer(body.length));
      keyBytes.set(body);
      const keys = await loadEvaluationKeys(keyBytes);
      try {
        if (keys.layout !== 'column')
          throw new Refusal(400, 'layout', "the service evaluates the 'column' layout; these keys were made for the row layout");
      } finally {
        keys.dispose();
      }
      const id = keySetIdOf(publicKey, header.parameterHash, header.keyId);
      const known = await store.get(id);
      if (known === undefined) {
        try {
          await store.put({ id, publicKey, evalKeys: keyBytes, createdAt: Date.now() });
        } catch (e) {
          if (e instanceof RangeError) throw new Refusal(413, 'too-large', e.message);
          throw e;
        }
      }
      stats.registrations++;
      void reply.code(known === undefined ? 201 : 200);
      return { keySetId: id, bytes: body.length, parameterHash: ctx.id };
    });

    app.get<{ Params: { id: string } }>(`${API_PREFIX}/key-sets/:id`, async (req) => {
      const id = req.params.id;
      if (!isKeySetId(id)) throw new Refusal(400, 'bad-request', 'a key-set id is 32 lower-case hex digits');
      const { record } = await keySet(id);
      authenticate(req, new Uint8Array(0), id, record.publicKey, true);
      return { keySetId: id, bytes: record.evalKeys.length, createdAt: record.createdAt };
    });

    app.post<{ Params: { name: string } }>(`${API_PREFIX}/models/:name/predict`, async (req, reply) => {
      if (closing) throw new Refusal(503, 'shutting-down', 'the service is shutting down');
      const model = served.get(req.params.name);
      if (model === undefined) throw new Refusal(404, 'unknown-model', `no model '${req.params.name}'; see GET ${API_PREFIX}/models`);
      const body = bodyOf(req);
      const id = headerString(req, SIGNATURE_HEADERS.keySet);
      if (!isKeySetId(id))
        throw new Refusal(401, 'signature', `predictions must name their key set in ${SIGNATURE_HEADERS.keySet} (32 hex digits)`);
      const set = await keySet(id);
      authenticate(req, body, id, set.record.publicKey, true);
      const { reader: r } = openMessage(body, WireKind.encryptedRows, ctx.parameterHash, set.keyId, 'encRows');
      const h = readRows(r, ctx.slots, 'encRows');
      if (h.layout !== 'column') throw new Refusal(400, 'layout', "the service evaluates the 'column' layout");
      if (h.features !== model.info.features) {
        throw new Refusal(
          400,
          'features',
          `encRows have ${h.features} features per row, but model '${model.name}' takes ${model.info.features}`,
        );
      }
      const batches: UncheckedBytes[][] = [];
      for (let b = 0; b < h.batches; b++) batches.push(h.ciphertexts.slice(b * h.perBatch, (b + 1) * h.perBatch));
      if (stats.inFlightBatches + batches.length > maxConcurrentBatches) {
        throw new Refusal(
          429,
          'busy',
          `${stats.inFlightBatches} batches are queued or running (limit ${maxConcurrentBatches}); retry shortly`,
        );
      }
      stats.inFlightBatches += batches.length;
      let outs: Uint8Array[];
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Refusal(503, 'timeout', `the batches took longer than ${requestTimeoutMs} ms`)),
            requestTimeoutMs,
          );
        });
        // The workers read the ciphertexts in the body's shared memory: hold it until they are done, even when
        // the reply goes out earlier (timeout).
        const lease = leases.get(req.raw);
        lease?.retain();
        // The batches count as in flight until the workers are done with them, not until the reply: after a
        // timeout they still occupy the pool, and admitting new ones in their place would grow its queue unbounded.
        const run = workers.run(model.id, model.spec, batches, set.ref).finally(() => {
          stats.inFlightBatches -= batches.length;
          lease?.release();
        });
        outs = await Promise.race([run, timeout]);
      } finally {
        clearTimeout(timer);
      }
      stats.predictions++;
      stats.batches += batches.length;
      const scores = writeScores(ctx.parameterHash, set.keyId, {
        layout: 'column',
        rows: h.rows,
        outputs: model.info.outputs,
        perCiphertext: h.perCiphertext,
        stride: 1,
        post: model.spec.post,
        ciphertexts: outs,
      });
      void reply.type('application/octet-stream');
      return Buffer.from(scores.buffer, scores.byteOffset, scores.byteLength);
    });

    await app.listen({ host, port });
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    const server = app;
    let closed: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closed ??= (async () => {
        closing = true;
        try {
          await server.close();
        } finally {
          await workers.close();
          bodies.clear();
          await store.close();
          cache.clear();
          ctx.release();
        }
      })();
      return closed;
    };
    return {
      url,
      port: boundPort,
      info,
      stats,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await app?.close();
    await pool?.close();
    ctx.release();
    throw e;
  }
}
