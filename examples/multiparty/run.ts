// Three hospitals train a joint model without pooling their patients: `pnpm run multiparty`.
//
// This launcher plays the part of three organisations' administrators on one machine. It splits the shipped
// Breast Cancer Wisconsin data (examples/data/breast_cancer.SOURCE.md) into three files, one per hospital, creates
// an identity (key + self-signed certificate) for each hospital and for the dealer (what `pnpm exec ppml-smpc keygen`
// does on each host), and starts four processes on 127.0.0.1: the dealer (dealer.ts) and the three hospitals
// (hospital.ts). Each hospital process reads only its own file; it learns the other hospitals' row counts (public)
// and their certificate fingerprints, never their rows. Their output is printed with a prefix per process.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCsv } from '@ppml/core';
import { generateIdentity } from '@ppml/smpc';
import { dataFile, outFile } from '../src/files.ts';

const NAMES = ['Hospital A', 'Hospital B', 'Hospital C'];
const dir = outFile('multiparty');
mkdirSync(dir, { recursive: true, mode: 0o700 });

// 1. The data: hospital h gets rows h, h + 3, h + 6, ... (about 190 patients each).
const table = readCsv(dataFile('breast_cancer.csv'));
const files: string[] = [];
const counts: number[] = [];
for (let h = 0; h < 3; h++) {
  const rows = table.rows.filter((_, i) => i % 3 === h);
  const file = join(dir, `hospital-${h}.csv`);
  writeFileSync(file, `${[table.header.join(','), ...rows.map((r) => r.join(','))].join('\n')}\n`, { mode: 0o600 });
  files.push(file);
  counts.push(rows.length);
}

// 2. Identities: each organisation keeps its key and publishes its fingerprint.
const identities = [...NAMES, 'Dealer'].map((name, i) => {
  const id = generateIdentity({ name: name.replace(' ', '-') });
  const keyFile = join(dir, `key-${i}.pem`);
  writeFileSync(keyFile, id.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, `cert-${i}.pem`), id.certificatePem);
  return { keyFile, certFile: join(dir, `cert-${i}.pem`), fingerprint: id.fingerprint };
});

// 3. Addresses: ports the system assigns (on separate hosts these would be fixed, e.g. 7001-7003).
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
const ports = [await freePort(), await freePort(), await freePort()];
const dealerPort = await freePort();
const peers = ports.map((port, h) => ({ host: '127.0.0.1', port, fingerprint: identities[h].fingerprint }));

function start(label: string, script: string, config: unknown) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL(script, import.meta.url)), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const l of lines) out.write(`[${label}] ${l}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return { child, exited: new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1))) };
}

const dealer = start('Dealer', './dealer.ts', {
  port: dealerPort,
  keyFile: identities[3].keyFile,
  certFile: identities[3].certFile,
  parties: identities.slice(0, 3).map((i) => i.fingerprint),
});
const hospitals = NAMES.map((name, h) =>
  start(name, './hospital.ts', {
    party: h,
    names: NAMES,
    dataFile: files[h],
    counts,
    peers,
    keyFile: identities[h].keyFile,
    certFile: identities[h].certFile,
    dealer: { host: '127.0.0.1', port: dealerPort, fingerprint: identities[3].fingerprint },
  }),
);
const codes = await Promise.all(hospitals.map((h) => h.exited));
dealer.child.kill('SIGTERM');
await dealer.exited;
if (codes.some((c) => c !== 0)) {
  console.error(`a hospital process failed (exit codes ${codes.join(', ')})`);
  process.exitCode = 1;
}
