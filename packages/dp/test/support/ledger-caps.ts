/** Caps and per-spend noise shared by the ledger tests and their child processes. */
export const LEDGER_CAPS = { epsilon: 1, delta: 1e-6, accountant: 'pld' } as const;
/**
 * Noise multiplier of each Gaussian spend: k spends compose to one Gaussian with multiplier 30/sqrt(k), and
 * (1, 1e-6) holds up to about 100 of them (basic composition of their (epsilon, delta) would allow far fewer).
 */
export const LEDGER_SIGMA = 30;
