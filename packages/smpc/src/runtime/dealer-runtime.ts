/**
 * The dealer's loop (internal), the same on a worker thread and in a dealer process: the trusted source of
 * correlated randomness for the offline phase, as CrypTen's TTP or MP-SPDZ's dealer protocol. It never receives
 * inputs or shares; it answers party 0's requests (what is needed, in the order it is consumed) by sending each
 * party its seeds and corrections. The dealer is peer `parties` of its transport; the parties are 0..parties-1.
 * @module
 */
import { dealMaterial, type MaterialRequest } from '../preprocessing.ts';
import type { Transport } from '../transport/transport.ts';

/** Largest count one request may ask for: beyond it the material would not fit in a dealer's heap. */
const MAX_REQUEST = 2 ** 27;

/**
 * Serves party 0's requests until the transport fails or closes. `onDealt` sees the bytes sent to each party.
 * @example
 * ```ts
 * await runDealer({ transport, parties: 3, protocol: 'additive' });
 * ```
 */
export async function runDealer(options: {
  readonly transport: Transport;
  readonly parties: number;
  readonly protocol: 'additive' | 'replicated';
  readonly onDealt?: (party: number, bytes: number) => void;
}): Promise<never> {
  const { transport, parties, protocol } = options;
  for (let k = 0; ; k++) {
    const bytes = await transport.receive(0, `req.${k}`);
    let req: MaterialRequest;
    try {
      req = JSON.parse(new TextDecoder().decode(bytes)) as MaterialRequest;
    } catch (e) {
      throw new RangeError(`request ${k} from party 0 is not valid JSON`, { cause: e });
    }
    if (req === null || typeof req !== 'object' || !(Number.isSafeInteger(req.count) && req.count > 0 && req.count <= MAX_REQUEST)) {
      throw new RangeError(`request count must be a positive integer <= ${MAX_REQUEST}`);
    }
    const perParty = dealMaterial(req, parties, protocol === 'replicated');
    perParty.forEach((b, p) => {
      options.onDealt?.(p, b.byteLength);
      transport.send(p, `pre.${k}`, b);
    });
  }
}
