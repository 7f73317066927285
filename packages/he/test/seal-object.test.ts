// SEAL objects embedded in messages (issue 10, item 6): SEAL reads only as many bytes as its own header's size
// field says, so trailing bytes used to pass; a SEAL version mismatch used to surface as reason 'corrupt'; and a
// ciphertext that SEAL accepts may still be the wrong one (another level, a reply fed back as input). Messages
// are re-framed with correct CRCs so that only the SEAL-level checks can catch these.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeClient, HeFormatError, HeServer, type HeModel } from '../src/index.ts';
import { readRows, readScores, writeRows, writeScores } from '../src/layout.ts';
import { checkSealHeader } from '../src/seal-object.ts';
import { WireKind, WireWriter, openMessage } from '../src/wire.ts';

let client: HeClient;
let server: HeServer;
let model: HeModel;
let enc: Uint8Array;

beforeAll(async () => {
  client = await HeClient.create({ polyModulusDegree: 4096, depth: 1, scaleBits: 30, integerBits: 8, inputBound: 4 });
  server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
  model = server.linear({ weights: [0.5, -0.25], bias: 0.5 });
  enc = client.encryptRows([
    [1, 2],
    [3, -1],
  ]);
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

/** Re-frames `enc` with every ciphertext passed through `edit` (CRCs recomputed). */
function editRows(edit: (ct: Uint8Array) => Uint8Array): Uint8Array {
  const { header, reader } = openMessage(enc, WireKind.encryptedRows, undefined, undefined, 'encRows');
  const h = readRows(reader, client.slots, 'encRows');
  return writeRows(header.parameterHash, header.keyId, { ...h, ciphertexts: h.ciphertexts.map((c) => edit(c.bytes.slice())) });
}

function reason(f: () => unknown): { reason: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof HeFormatError) return { reason: e.reason, message: e.message };
    throw e;
  }
  throw new Error('expected an HeFormatError');
}

async function rejection(p: Promise<unknown>): Promise<{ reason: string; message: string }> {
  return p.then(
    () => {
      throw new Error('expected an HeFormatError');
    },
    (e: unknown) => {
      if (e instanceof HeFormatError) return { reason: e.reason, message: e.message };
      throw e;
    },
  );
}

describe('SEAL objects inside messages', () => {
  it('trailing bytes after a SEAL ciphertext are refused (reason corrupt, names the size field)', async () => {
    const bad = editRows((ct) => Uint8Array.from([...ct, 0, 0, 0, 0]));
    const r = await rejection(model.predict(bad));
    expect(r.reason).toBe('corrupt');
    expect(r.message).toMatch(/4 bytes after a SEAL object of \d+ bytes/);
  });

  it('a SEAL size field larger than the byte string is reason truncated', async () => {
    const bad = editRows((ct) => ct.subarray(0, ct.length - 8));
    expect((await rejection(model.predict(bad))).reason).toBe('truncated');
  });

  it('an object written by another SEAL version is its own reason and names both versions', async () => {
    const bad = editRows((ct) => {
      ct[4] = 4; // SEAL 4.4
      return ct;
    });
    const r = await rejection(model.predict(bad));
    expect(r.reason).toBe('seal-version');
    expect(r.message).toMatch(/SEAL 4\.4.*SEAL 4\.1/);
  });

  it('checks the header of keys and scores too', async () => {
    const scores = await model.predict(enc);
    const { header, reader } = openMessage(scores, WireKind.encryptedScores, undefined, undefined, 'encScores');
    const h = readScores(reader, client.slots, 'encScores');
    const trailing = writeScores(header.parameterHash, header.keyId, {
      ...h,
      ciphertexts: h.ciphertexts.map((c) => Uint8Array.from([...c, 1])),
    });
    expect(reason(() => client.decryptScores(trailing)).message).toMatch(/1 bytes after a SEAL object/);
    expect(reason(() => checkSealHeader(Uint8Array.of(0x5e, 0xa1, 16, 3, 7, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0), 'k')).message).toMatch(
      /SEAL 3\.7/,
    );
    expect(reason(() => checkSealHeader(new Uint8Array(16), 'k')).message).toMatch(/not a SEAL object/);
    expect(reason(() => checkSealHeader(new Uint8Array(3), 'k')).reason).toBe('truncated');
  });

  it('checks the SEAL objects inside evaluation keys and client keys', async () => {
    const keys = client.exportEvaluationKeys();
    const { header, reader } = openMessage(keys, WireKind.evaluationKeys, undefined, undefined, 'evalKeys');
    const meta = reader.json();
    const relin = reader.bytes();
    const galois = reader.bytes();
    const trailing = new WireWriter()
      .json(meta)
      .bytes(Uint8Array.from([...relin, 7, 7]))
      .bytes(galois)
      .finish(WireKind.evaluationKeys, header.parameterHash, header.keyId);
    const r = await rejection(HeServer.create(trailing, { threads: 1 }));
    expect(r.message).toMatch(/evalKeys hold 2 bytes after a SEAL object/);
    const ck = client.exportClientKeys();
    const opened = openMessage(ck, WireKind.clientKeys, undefined, undefined, 'clientKeys');
    const ckMeta = opened.reader.json();
    const sk = opened.reader.bytes().slice();
    sk[3] = 3; // SEAL 3.x
    const old = new WireWriter().json(ckMeta).bytes(sk).finish(WireKind.clientKeys, opened.header.parameterHash, opened.header.keyId);
    const v = await rejection(HeClient.load(old));
    expect(v.reason).toBe('seal-version');
    expect(v.message).toMatch(/SEAL 3\.1.*SEAL 4\.1/);
  });

  it('a valid ciphertext at the wrong level (a reply sent back as input) is refused before use', async () => {
    const scores = await model.predict(enc);
    const { reader } = openMessage(scores, WireKind.encryptedScores, undefined, undefined, 'encScores');
    const reply = readScores(reader, client.slots, 'encScores').ciphertexts[0];
    const bad = editRows(() => reply.slice());
    const r = await rejection(model.predict(bad));
    expect(r.message).toMatch(/level 0, expected 1/);
  });

  it('unchanged messages still work', async () => {
    const s = client.decryptScores(await model.predict(enc));
    expect(Math.abs(s[0] - 0.5)).toBeLessThan(1e-3);
    expect(Math.abs(s[1] - 2.25)).toBeLessThan(1e-3);
  });
});
