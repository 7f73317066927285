// The dealer's process (started by run.ts): a server that supplies the hospitals' correlated randomness (the
// offline phase). It authenticates each hospital by its certificate fingerprint and never sees a patient value.
import { readFileSync } from 'node:fs';
import { certificateFingerprint, startDealer } from '@ppml/smpc';

const config = JSON.parse(process.argv[2] ?? '{}') as { port: number; keyFile: string; certFile: string; parties: string[] };
const certificatePem = readFileSync(config.certFile, 'utf8');
const dealer = await startDealer({
  host: '127.0.0.1',
  port: config.port,
  protocol: 'replicated',
  identity: { privateKeyPem: readFileSync(config.keyFile, 'utf8'), certificatePem, fingerprint: certificateFingerprint(certificatePem) },
  parties: config.parties.map((fingerprint) => ({ fingerprint })),
});
console.log(`listening on 127.0.0.1:${dealer.port}; serves material to three pinned hospitals, receives no data`);
process.once('SIGTERM', () => {
  void dealer.close().then(() => console.log('closed'));
});
