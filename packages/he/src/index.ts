/**
 * @ppml/he: encrypted inference with CKKS (Cheon, Kim, Kim, Song 2017) on Microsoft SEAL through node-seal 7.
 *
 * - Planner: CKKS parameters from depth and precision within the 128-bit security budget (`planner.ts`).
 * - Client/server split with a versioned binary wire format (`client.ts`, `server.ts`, `wire.ts`).
 * - Models: linear, logistic (exact sigmoid at the client by default; a server-side polynomial only with declared
 *   feature bounds that keep z inside its range), softmax, MLPs with polynomial activations.
 * - Column-major batching (thousands of samples per ciphertext, no rotations) and a row-major mode.
 * - Deterministic release of every SEAL object; worker-thread sharding for large requests.
 * - `HeRemote`: the client of the HTTP service of `@ppml/he/service` (encrypt here, score there, decrypt here).
 *
 * In browser bundles the `browser` export condition selects `browser.ts` (no server, no worker pools, no `node:`
 * imports); see the README's browser section.
 *
 * node-seal's package exports only an `import` condition, so it is re-exported here as `SEAL` for CommonJS
 * callers (e.g. notebook cells).
 * @module
 */
export * from './portable.ts';
export { HeServer, HeModel, type HeServerOptions } from './server.ts';
