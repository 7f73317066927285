/**
 * `@ppml/he/service`: encrypted inference over HTTP (Node only). {@link createHeService} serves models to
 * {@link HeRemote} clients (`@ppml/he`, in Node or a browser); key sets live in a {@link KeyStore}.
 * @module
 */
export { createHeService, type HeService, type HeServiceOptions, type ServiceLimits, type ServiceModel } from './service.ts';
export {
  type KeyStore,
  type KeySetRecord,
  type MemoryKeyStoreOptions,
  type DirectoryKeyStoreOptions,
  MemoryKeyStore,
  DirectoryKeyStore,
  isKeySetId,
} from './key-store.ts';
export { ReplayGuard, type ReplayVerdict } from './replay.ts';

/**
 * Where node-seal's `seal_throws.wasm` is installed: copy it next to a browser bundle of `@ppml/he` (its browser
 * build fetches it from there), or serve it and call `setSealWasmUrl`.
 * @example
 * ```ts
 * copyFileSync(sealWasmUrl(), 'public/seal_throws.wasm');
 * ```
 */
export function sealWasmUrl(): URL {
  return new URL('seal_throws.wasm', import.meta.resolve('node-seal'));
}
