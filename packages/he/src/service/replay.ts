/**
 * Refusing replayed requests: a signed request carries a timestamp and a random nonce; the service accepts a
 * timestamp only within `maxSkewMs` of its clock and a nonce only once. Memory is bounded: each key set keeps at
 * most `perKeySet` nonces, and when the oldest is dropped the key set's floor rises to its timestamp, so nothing
 * at or below the floor is accepted again (the same idea as IPsec's anti-replay window, RFC 4303 §3.4.3).
 * @module
 */

/** Why a request was refused, or undefined when it is fresh. */
export type ReplayVerdict = 'stale' | 'replay' | undefined;

interface Window {
  floor: number;
  readonly nonces: Map<string, number>;
}

/**
 * Nonce windows of many key sets (least recently used key sets dropped past `maxKeySets`).
 * @example
 * ```ts
 * const guard = new ReplayGuard({ maxSkewMs: 300_000, perKeySet: 4096, maxKeySets: 1000 });
 * if (guard.check(keySetId, timestamp, nonce, Date.now()) !== undefined) refuse();
 * ```
 */
export class ReplayGuard {
  readonly maxSkewMs: number;
  readonly perKeySet: number;
  readonly maxKeySets: number;
  readonly #windows = new Map<string, Window>();
  #droppedFloor = -Infinity;

  constructor(o: { maxSkewMs: number; perKeySet: number; maxKeySets: number }) {
    this.maxSkewMs = o.maxSkewMs;
    this.perKeySet = o.perKeySet;
    this.maxKeySets = o.maxKeySets;
  }

  /** Checks and, when fresh, records (`keySetId`, `nonce`). */
  check(keySetId: string, timestamp: number, nonce: string, now: number): ReplayVerdict {
    if (!(Math.abs(now - timestamp) <= this.maxSkewMs)) return 'stale';
    let w = this.#windows.get(keySetId);
    if (w === undefined) {
      // A new window starts above every timestamp of the windows dropped so far, so dropping a window never
      // reopens its nonces (at worst a client's request made before the drop is refused as stale and retried).
      w = { floor: this.#droppedFloor, nonces: new Map() };
      if (this.#windows.size >= this.maxKeySets) {
        const [oldestId, oldest] = this.#windows.entries().next().value as [string, Window];
        this.#windows.delete(oldestId);
        let top = oldest.floor;
        for (const t of oldest.nonces.values()) top = Math.max(top, t);
        this.#droppedFloor = Math.max(this.#droppedFloor, top);
      }
    } else {
      this.#windows.delete(keySetId);
    }
    this.#windows.set(keySetId, w);
    if (timestamp <= w.floor) return 'stale';
    if (w.nonces.has(nonce)) return 'replay';
    // Forget nonces whose timestamps fell out of the skew window: those requests are refused as stale.
    for (const [n, t] of w.nonces) {
      if (now - t <= this.maxSkewMs) break;
      w.nonces.delete(n);
    }
    w.nonces.set(nonce, timestamp);
    while (w.nonces.size > this.perKeySet) {
      const [n, t] = w.nonces.entries().next().value as [string, number];
      w.nonces.delete(n);
      w.floor = Math.max(w.floor, t);
    }
    return undefined;
  }
}
