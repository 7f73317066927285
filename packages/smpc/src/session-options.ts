/**
 * Checks of the options of `SmpcSession.start` (worker threads) and `SmpcSession.connect` (one party per
 * process over TLS), all before any thread starts or any socket opens: every bad value is a `TypeError` or
 * `RangeError` naming the parameter and the allowed range.
 * @module
 */
import { DEFAULT_FRACTIONAL_BITS, assertFunction, assertInteger, assertOptions, describeValue, fixedPointBound } from '@ppml/core';
import { checkIdentity, normalizeFingerprint, type Identity } from './identity.ts';
import type { FaultInjection, SecurityModel } from './messages.ts';
import type { PeerAddress } from './network/mesh.ts';
import { allKeys } from './option-keys.ts';

/**
 * Largest statistical security of the additive protocol's malicious mode: SPDZ2k over Z_2^128 checks k = 66 data
 * bits mod 2^127, so s = 61 and a cheater passes a MAC check with probability at most 2^-(s - log2(s + 1)).
 */
export const SPDZ2K_MAX_SECURITY = 55;

const FAULT_KINDS: readonly string[] = ['throw', 'exit', 'hang', 'corrupt', 'addError', 'flipBit', 'wrongOpen'];

/** Node's timers store the delay as a signed 32-bit integer of ms. */
export const MAX_TIMEOUT_MS: number = 2 ** 31 - 1;

/** Default maxAbs is 2^(DEFAULT_MAX_ABS_BITS - f); see {@link SmpcSessionOptions.maxAbs}. */
export const DEFAULT_MAX_ABS_BITS: number = 26;

/** The keys of {@link SmpcSessionOptions}; any other key is refused with a `TypeError`. */
const START_OPTION_KEYS = allKeys<SmpcSessionOptions>()(
  'parties',
  'protocol',
  'dealer',
  'fractionalBits',
  'timeoutMs',
  'maxAbs',
  'onWorkerMessage',
  'faultInjection',
  'security',
  'statisticalSecurity',
);

/** Options of {@link SmpcSession.start}. */
export interface SmpcSessionOptions {
  /** Number of parties: >= 2 for 'additive', exactly 3 for 'replicated'. */
  readonly parties: number;
  /** 'additive' (n parties, Beaver triples) or 'replicated' (3 parties, ABY3). Default 'additive'. */
  readonly protocol?: 'additive' | 'replicated';
  /**
   * Where the preprocessing (truncation pairs, comparison masks, triples) comes from. 'none': the parties make
   * it themselves and no dealer thread exists (replicated: ABY3-style from pairwise PRG keys and binary circuits;
   * additive: triples by oblivious transfer, IKNP extension and Gilboa products, secure against any n - 1
   * colluding semi-honest parties, slower). 'trusted': a dealer thread deals it (it sees no inputs but knows
   * every mask). Default 'none' for 'replicated' and under malicious security, and 'trusted' for semi-honest
   * 'additive' (the fast semi-honest option).
   */
  readonly dealer?: 'trusted' | 'none';
  /**
   * 'semi-honest' (default): parties that follow the protocol learn nothing beyond the outputs; a party that
   * deviates is not detected and can change results. 'malicious': security with abort, dealer-free preprocessing
   * only. Replicated: against one cheating party of three; every opening is redundant and every product checked
   * with a verified triple. Additive (SPDZ2k): against up to n - 1 cheating parties; every share carries a MAC
   * over Z_2^128, openings are MAC-checked in batches and triples checked by sacrifice. All checks run before
   * any value is revealed; a tampered share, wrong message or inconsistent opening aborts the session with
   * `ProtocolAbortError`, never a wrong value.
   */
  readonly security?: 'semi-honest' | 'malicious';
  /**
   * Statistical security parameter s of the malicious mode: a cheater passes the checks with probability at
   * most 2^-s. An integer in [40, 128] for replicated sharing, [40, 55] for additive sharing (SPDZ2k's MAC check
   * over Z_2^128 gives 2^-55); default 40. Only with `security: 'malicious'`.
   */
  readonly statisticalSecurity?: number;
  /** Fractional bits of the fixed-point encoding, an integer in [8, 20]. Default 16. */
  readonly fractionalBits?: number;
  /**
   * Abort when no party makes progress (finishes an operation or a communication round) for this long, in ms:
   * a number in [1, 2^31 - 1] (Node's timer limit). Default 60,000. Must exceed the longest purely local step
   * (e.g. a very large local matrix product).
   */
  readonly timeoutMs?: number;
  /**
   * Largest |x| accepted as input or public operand, at most 2^(53 - fractionalBits) (inputs are encoded
   * through doubles). It is also the bound every shared tensor declares unless `share` is given a tighter one:
   * operations check the propagated bounds and throw a `RangeError` where a result could leave the
   * fixed-point range. Default 2^(26 - fractionalBits) (1024 at 16 bits): a product of two inputs then uses 52
   * of the 62 bits the truncation allows, leaving room for sums and dot products of up to 1023 products.
   */
  readonly maxAbs?: number;
  /** Called with every message a worker sends to this thread (for audits and tests). */
  readonly onWorkerMessage?: (from: number | 'dealer', message: unknown) => void;
  /**
   * FOR TESTS ONLY: makes one party crash, exit, hang or send a malformed message when it starts the first
   * operation with the given name. Never set this in production code.
   */
  readonly faultInjection?: FaultInjection;
}

/** The checked, defaulted options common to both modes. */
export interface CheckedOptions {
  readonly parties: number;
  readonly protocol: 'additive' | 'replicated';
  readonly fractionalBits: number;
  readonly timeoutMs: number;
  readonly maxAbs: number;
  readonly fault: FaultInjection | null;
  /** True when a dealer supplies the preprocessing; false for dealer-free replicated sharing. */
  readonly withDealer: boolean;
  readonly security: SecurityModel;
  readonly statisticalSecurity: number;
}

/**
 * Checks `security` and `statisticalSecurity` against the protocol and the preprocessing source.
 * @example
 * ```ts
 * checkSecurity({ security: 'malicious' }, 'replicated', false); // { security: 'malicious', statisticalSecurity: 40 }
 * ```
 */
export function checkSecurity(
  options: { readonly security?: unknown; readonly statisticalSecurity?: unknown },
  protocol: 'additive' | 'replicated',
  withDealer: boolean,
): { security: SecurityModel; statisticalSecurity: number } {
  const security = options.security ?? 'semi-honest';
  if (typeof security !== 'string') throw new TypeError(`security must be 'semi-honest' or 'malicious', got ${describeValue(security)}`);
  if (security !== 'semi-honest' && security !== 'malicious') {
    throw new RangeError(`security must be 'semi-honest' or 'malicious', got ${describeValue(security)}`);
  }
  const s = options.statisticalSecurity;
  if (s !== undefined) {
    if (typeof s !== 'number') throw new TypeError(`statisticalSecurity must be a number, got ${describeValue(s)}`);
    assertInteger('statisticalSecurity', s, 40, 128);
    if (security !== 'malicious') throw new RangeError("statisticalSecurity applies to security: 'malicious' only");
  }
  if (security === 'malicious') {
    // SPDZ2k over Z_2^128 with k = 66 checked bits gives 2^-(s - log2(s + 1)) for s = 61 (`protocols/spdz2k.ts`).
    if (protocol === 'additive' && s !== undefined && s > SPDZ2K_MAX_SECURITY) {
      throw new RangeError(
        `statisticalSecurity must be an integer in [40, ${SPDZ2K_MAX_SECURITY}] for the additive protocol (SPDZ2k MACs over Z_2^128), got ${s}`,
      );
    }
    if (withDealer) {
      throw new RangeError("security: 'malicious' needs dealer-free preprocessing: a dealer's material cannot be checked by the parties");
    }
  }
  return { security, statisticalSecurity: s ?? 40 };
}

/** Checks the options both modes share; `partiesName` names where the party count came from. */
function checkCommon(
  options: Pick<SmpcSessionOptions, 'protocol' | 'fractionalBits' | 'timeoutMs' | 'maxAbs' | 'onWorkerMessage'> & {
    readonly parties: number;
  },
  partiesName: string,
): Omit<CheckedOptions, 'fault' | 'withDealer' | 'security' | 'statisticalSecurity'> {
  const protocol = options.protocol ?? 'additive';
  if (typeof protocol !== 'string') {
    throw new TypeError(`protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`);
  }
  if (protocol !== 'additive' && protocol !== 'replicated') {
    throw new RangeError(`protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`);
  }
  const parties = options.parties;
  if (partiesName === 'parties') assertInteger('parties', parties, 2, 16);
  if (protocol === 'additive' && !(parties >= 2 && parties <= 16)) {
    throw new RangeError(`${partiesName} must list 2 to 16 parties for the additive protocol, got ${parties}`);
  }
  if (protocol === 'replicated' && parties !== 3) {
    throw new RangeError(`${partiesName} must ${partiesName === 'parties' ? 'be' : 'have'} 3 for the replicated protocol, got ${parties}`);
  }
  const fractionalBits = options.fractionalBits ?? DEFAULT_FRACTIONAL_BITS;
  assertInteger('fractionalBits', fractionalBits, 8, 20);
  // A callback that is not a function would throw inside a worker listener at the first message, where
  // nothing can catch it: check it here.
  assertFunction('onWorkerMessage', options.onWorkerMessage, true);
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (typeof timeoutMs !== 'number') throw new TypeError(`timeoutMs must be a number, got ${describeValue(timeoutMs)}`);
  // Node's timers hold a signed 32-bit delay: a longer one fires after 1 ms (TimeoutOverflowWarning), which
  // would abort the session at once.
  if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(
      `timeoutMs must be a number in [1, ${MAX_TIMEOUT_MS}] (2^31 - 1 ms, about 24.8 days), got ${describeValue(timeoutMs)}`,
    );
  }
  const maxAbs = options.maxAbs ?? 2 ** (DEFAULT_MAX_ABS_BITS - fractionalBits);
  if (typeof maxAbs !== 'number') throw new TypeError(`maxAbs must be a number, got ${describeValue(maxAbs)}`);
  // One bound, the encoder's: inputs are encoded through doubles, round(x 2^f) is exact only for
  // |x 2^f| <= 2^53 (core's fixedPointBound), and a larger value would make a party's encoder throw
  // mid-protocol and abort the session.
  const hardBound = fixedPointBound(fractionalBits);
  if (!(maxAbs > 0 && maxAbs <= hardBound)) {
    throw new RangeError(
      `maxAbs must be a number in (0, 2^${53 - fractionalBits}] for ${fractionalBits} fractional bits, got ${describeValue(maxAbs)}`,
    );
  }
  return { parties, protocol, fractionalBits, timeoutMs, maxAbs };
}

/**
 * Checks `SmpcSession.start` options and fills in the defaults.
 * @example
 * ```ts
 * checkStartOptions({ parties: 3, protocol: 'replicated' }).timeoutMs; // 60000
 * ```
 */
export function checkStartOptions(options: SmpcSessionOptions): CheckedOptions {
  // Unknown keys are refused, not ignored: a typo such as `timeoutMS` or an option this version does not
  // have (`dealerMode`) would otherwise run with the defaults while the caller believes otherwise.
  assertOptions('options', options, START_OPTION_KEYS);
  const checked = checkCommon(options, 'parties');
  // Malicious security needs material the parties check, so it defaults to no dealer for both protocols.
  const dealer = options.dealer ?? (checked.protocol === 'replicated' || options.security === 'malicious' ? 'none' : 'trusted');
  if (typeof dealer !== 'string') throw new TypeError(`dealer must be 'trusted' or 'none', got ${describeValue(dealer)}`);
  if (dealer !== 'trusted' && dealer !== 'none') throw new RangeError(`dealer must be 'trusted' or 'none', got ${describeValue(dealer)}`);
  const parties = checked.parties;
  const fault = options.faultInjection ?? null;
  if (fault !== null) {
    assertOptions('faultInjection', fault, allKeys<FaultInjection>()('party', 'operation', 'kind', 'message'));
    if (!Number.isInteger(fault.party) || fault.party < 0 || fault.party >= parties) {
      throw new RangeError(`faultInjection.party must be a party id in [0, ${parties - 1}], got ${describeValue(fault?.party)}`);
    }
    if (!FAULT_KINDS.includes(fault.kind)) {
      throw new RangeError(`faultInjection.kind must be one of ${FAULT_KINDS.join(', ')}, got ${describeValue(fault.kind)}`);
    }
    if (fault.message !== undefined) assertInteger('faultInjection.message', fault.message, 0, 2 ** 31 - 1);
    // A wrong opening is injected by the checked protocol only: elsewhere it would silently do nothing.
    if (fault.kind === 'wrongOpen' && options.security !== 'malicious') {
      throw new RangeError("faultInjection.kind 'wrongOpen' needs security: 'malicious' (use 'addError' or 'flipBit' otherwise)");
    }
    if (fault.message !== undefined && fault.kind !== 'addError' && fault.kind !== 'flipBit') {
      throw new RangeError(`faultInjection.message applies to the kinds 'addError' and 'flipBit', not ${describeValue(fault.kind)}`);
    }
    if (typeof fault.operation !== 'string') {
      throw new TypeError(`faultInjection.operation must be an operation name, got ${describeValue(fault.operation)}`);
    }
  }
  return {
    ...checked,
    ...checkSecurity(options, checked.protocol, dealer === 'trusted'),
    withDealer: dealer === 'trusted',
    fault:
      fault === null
        ? null
        : {
            party: fault.party,
            operation: fault.operation,
            kind: fault.kind,
            ...(fault.message === undefined ? {} : { message: fault.message }),
          },
  };
}

/** Where a peer (or the dealer) listens and the fingerprint of its certificate. */
export interface PeerOption {
  /** Host name or address; for this party's own entry, the address to listen on ('0.0.0.0' for every interface). */
  readonly host: string;
  /** TCP port in [1, 65535]. */
  readonly port: number;
  /** SHA-256 fingerprint of its certificate (`AB:CD:...` or 64 hex digits), from its `generateIdentity()`. */
  readonly fingerprint: string;
}

/** Options of `SmpcSession.connect`: this process is party `party` of a session across machines. */
export interface SmpcConnectOptions {
  /** This process's party id: an index into `peers`. */
  readonly party: number;
  /** 'additive' (2 to 16 parties) or 'replicated' (3 parties). Default 'additive'. */
  readonly protocol?: 'additive' | 'replicated';
  /** Every party's address and fingerprint, in party order; `peers[party]` is where this process listens. */
  readonly peers: readonly PeerOption[];
  /** This party's key and certificate (`generateIdentity()`); its fingerprint must be `peers[party].fingerprint`. */
  readonly identity: Identity;
  /**
   * The dealer's address and fingerprint (`startDealer`). Optional: without it the parties make their
   * preprocessing themselves (dealer-free: the default for 'replicated'; for 'additive' by oblivious transfer,
   * slower than a dealer); with it they take it from the dealer. Every party must choose the same (checked at
   * connect).
   */
  readonly dealer?: PeerOption;
  /** Names the run; every party must use the same (compared at connect, carried by every frame). */
  readonly sessionId: string;
  /** A hash of the program each party runs (for example of its script); compared at connect. Default ''. */
  readonly programId?: string;
  /** Abort when the links are not up, or an awaited peer sends nothing, for this long (ms). Default 60,000. */
  readonly timeoutMs?: number;
  /** Fractional bits, an integer in [8, 20]; every party must use the same. Default 16. */
  readonly fractionalBits?: number;
  /** As in `SmpcSession.start`; every party must use the same. */
  readonly maxAbs?: number;
  /** Called with every message this process's party runtime reports (acknowledgements, results, errors). */
  readonly onWorkerMessage?: (from: number | 'dealer', message: unknown) => void;
  /**
   * 'semi-honest' (default): parties that follow the protocol learn nothing beyond the outputs; a party that
   * deviates is not detected and can change results. 'malicious': security with abort, no dealer: replicated
   * sharing against one cheating party of three, additive sharing (SPDZ2k MACs) against up to n - 1; a tampered
   * share, wrong message or inconsistent opening makes each honest process abort with `ProtocolAbortError` or
   * return the correct value (selective abort: a cheater can withhold its confirmation from some parties), never
   * a wrong value.
   */
  readonly security?: 'semi-honest' | 'malicious';
  /**
   * Statistical security parameter s of the malicious mode: an integer in [40, 128] for replicated sharing,
   * [40, 55] for additive sharing; default 40. Only with `security: 'malicious'`.
   */
  readonly statisticalSecurity?: number;
}

const CONNECT_OPTION_KEYS = allKeys<SmpcConnectOptions>()(
  'party',
  'protocol',
  'peers',
  'identity',
  'dealer',
  'sessionId',
  'programId',
  'timeoutMs',
  'fractionalBits',
  'maxAbs',
  'onWorkerMessage',
  'security',
  'statisticalSecurity',
);

/** Checked `SmpcSession.connect` options. */
export interface CheckedConnectOptions extends CheckedOptions {
  readonly party: number;
  readonly peers: readonly PeerAddress[];
  readonly dealer: PeerAddress | null;
  readonly credentials: { readonly key: string; readonly cert: string };
  readonly sessionId: string;
  readonly programId: string;
}

function checkAddress(name: string, a: unknown): PeerAddress {
  assertOptions(name, a, ['host', 'port', 'fingerprint']);
  const { host, port, fingerprint } = a as unknown as PeerOption;
  if (typeof host !== 'string') throw new TypeError(`${name}.host must be a host name or address string, got ${describeValue(host)}`);
  if (host.length === 0 || host.length > 253)
    throw new RangeError(`${name}.host must have 1 to 253 characters, got ${describeValue(host)}`);
  assertInteger(`${name}.port`, port, 1, 65535);
  return { host, port, fingerprint: normalizeFingerprint(`${name}.fingerprint`, fingerprint) };
}

/**
 * Checks `SmpcSession.connect` options (before any socket opens) and fills in the defaults.
 * @example
 * ```ts
 * const o = checkConnectOptions({ party: 0, peers, identity, dealer, sessionId: 'study' });
 * ```
 */
export function checkConnectOptions(options: SmpcConnectOptions): CheckedConnectOptions {
  assertOptions('options', options, CONNECT_OPTION_KEYS);
  if (!Array.isArray(options.peers))
    throw new TypeError(`peers must be an array of { host, port, fingerprint }, got ${describeValue(options.peers)}`);
  const common = checkCommon({ ...options, parties: options.peers.length }, 'peers');
  const n = common.parties;
  const party = options.party;
  if (typeof party !== 'number') throw new TypeError(`party must be a party id (an index into peers), got ${describeValue(party)}`);
  if (!Number.isInteger(party) || party < 0 || party >= n)
    throw new RangeError(`party must be a party id in [0, ${n - 1}], got ${describeValue(party)}`);
  const peers: PeerAddress[] = [];
  for (let i = 0; i < n; i++) {
    const a = checkAddress(`peers[${i}]`, options.peers[i]);
    for (let j = 0; j < i; j++) {
      if (peers[j].fingerprint === a.fingerprint)
        throw new RangeError(`peers[${i}].fingerprint repeats peers[${j}].fingerprint: every party needs its own identity`);
      if (peers[j].port === a.port && peers[j].host === a.host)
        throw new RangeError(`peers[${i}].port repeats peers[${j}]: ${a.host}:${a.port} is listed twice`);
    }
    peers.push(a);
  }
  let dealer: PeerAddress | null = null;
  if (options.dealer !== undefined && options.dealer !== null) {
    const d = checkAddress('dealer', options.dealer);
    if (peers.some((p) => p.fingerprint === d.fingerprint))
      throw new RangeError("dealer.fingerprint must differ from every party's fingerprint");
    dealer = d;
  }
  if (options.identity === undefined)
    throw new TypeError("identity is required: this party's { privateKeyPem, certificatePem, fingerprint } from generateIdentity()");
  const own = checkIdentity('identity', options.identity);
  if (own !== peers[party].fingerprint) {
    throw new RangeError(
      `identity's certificate has fingerprint ${own}, but peers[${party}].fingerprint (this party's entry) is ${peers[party].fingerprint}`,
    );
  }
  const sessionId = options.sessionId;
  if (typeof sessionId !== 'string') throw new TypeError(`sessionId must be a string, got ${describeValue(sessionId)}`);
  if (sessionId.length === 0 || sessionId.length > 256)
    throw new RangeError(`sessionId must have 1 to 256 characters, got ${sessionId.length}`);
  const programId = options.programId ?? '';
  if (typeof programId !== 'string') throw new TypeError(`programId must be a string, got ${describeValue(programId)}`);
  if (programId.length > 256) throw new RangeError(`programId must have at most 256 characters, got ${programId.length}`);
  return {
    ...common,
    ...checkSecurity(options, common.protocol, dealer !== null),
    fault: null,
    withDealer: dealer !== null,
    party,
    peers,
    dealer,
    credentials: { key: (options.identity as Identity).privateKeyPem, cert: (options.identity as Identity).certificatePem },
    sessionId,
    programId,
  };
}
