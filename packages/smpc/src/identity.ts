/**
 * Party identities for sessions across machines: a self-signed X.509 certificate on a fresh ECDSA P-256 key,
 * pinned by the SHA-256 fingerprint of its DER encoding. No certificate authority and nothing that expires in
 * practice (valid for a century: TLS peers are authenticated by the pinned fingerprint, not by dates or a chain),
 * which avoids the month-long certificates that stop MP-SPDZ deployments (MP-SPDZ issue 1651).
 * `node:crypto` makes keys and signatures but not certificates; `@peculiar/asn1-x509` encodes the certificate
 * structure (RFC 5280) and `node:crypto` signs it, synchronously.
 * @module
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { assertOptions, describeValue } from '@ppml/core';

/** A party's key and certificate (PEM) and the certificate's fingerprint that its peers pin. */
export interface Identity {
  /** PKCS#8 private key, PEM. Keep it secret: it never leaves the party's machine. */
  readonly privateKeyPem: string;
  /** Self-signed X.509 certificate, PEM. Public. */
  readonly certificatePem: string;
  /** SHA-256 of the certificate's DER encoding, as `AB:CD:...` (32 bytes, the format `openssl x509 -fingerprint -sha256` prints). */
  readonly fingerprint: string;
}

/** Options of {@link generateIdentity}. */
export interface IdentityOptions {
  /** Common name in the certificate (informational only; peers pin the fingerprint). Default 'ppml-smpc party'. */
  readonly name?: string;
}

const FINGERPRINT = /^(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$|^[0-9a-fA-F]{64}$/;

/**
 * Normalizes a fingerprint (`AB:CD:...` or 64 hex digits, any case) to upper-case colon form; throws a
 * `TypeError`/`RangeError` naming `name` otherwise.
 * @example
 * ```ts
 * normalizeFingerprint('peers[0].fingerprint', 'ab'.repeat(32)); // 'AB:AB:...'
 * ```
 */
export function normalizeFingerprint(name: string, fp: unknown): string {
  if (typeof fp !== 'string') throw new TypeError(`${name} must be a SHA-256 certificate fingerprint string, got ${describeValue(fp)}`);
  if (!FINGERPRINT.test(fp)) {
    throw new RangeError(`${name} must be a SHA-256 fingerprint: 32 bytes as 'AB:CD:...' or 64 hex digits, got ${describeValue(fp)}`);
  }
  const hex = fp.replaceAll(':', '').toUpperCase();
  return hex.match(/../g)?.join(':') ?? hex;
}

/**
 * The fingerprint of a PEM or DER certificate.
 * @example
 * ```ts
 * certificateFingerprint(identity.certificatePem) === identity.fingerprint; // true
 * ```
 */
export function certificateFingerprint(certificate: string | Uint8Array): string {
  if (typeof certificate !== 'string' && !(certificate instanceof Uint8Array)) {
    throw new TypeError(`certificate must be a PEM string or DER bytes, got ${describeValue(certificate)}`);
  }
  try {
    return new X509Certificate(certificate).fingerprint256;
  } catch (e) {
    throw new RangeError('certificate must be a PEM or DER X.509 certificate', { cause: e });
  }
}

/**
 * Checks an identity given to `connect` or `startDealer`: both PEMs present and the key matching the
 * certificate (else a `TypeError`/`RangeError` naming `name`). Returns the certificate's fingerprint.
 * @example
 * ```ts
 * const fp = checkIdentity('identity', await generateIdentity());
 * ```
 */
export function checkIdentity(name: string, identity: unknown): string {
  assertOptions(name, identity, ['privateKeyPem', 'certificatePem', 'fingerprint']);
  const id = identity as Partial<Identity>;
  if (typeof id.privateKeyPem !== 'string') {
    throw new TypeError(
      `${name}.privateKeyPem must be the PEM private key (an identity without its key cannot connect), got ${describeValue(id.privateKeyPem)}`,
    );
  }
  if (typeof id.certificatePem !== 'string')
    throw new TypeError(`${name}.certificatePem must be a PEM certificate, got ${describeValue(id.certificatePem)}`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(id.certificatePem);
  } catch (e) {
    throw new RangeError(`${name}.certificatePem is not a PEM X.509 certificate`, { cause: e });
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(id.privateKeyPem);
  } catch (e) {
    throw new RangeError(`${name}.privateKeyPem is not a PEM private key`, { cause: e });
  }
  if (!cert.checkPrivateKey(key)) throw new RangeError(`${name}.privateKeyPem does not belong to ${name}.certificatePem`);
  if (id.fingerprint !== undefined && normalizeFingerprint(`${name}.fingerprint`, id.fingerprint) !== cert.fingerprint256) {
    throw new RangeError(`${name}.fingerprint is ${id.fingerprint} but the certificate's is ${cert.fingerprint256}`);
  }
  return cert.fingerprint256;
}

/** ecdsa-with-SHA256 (RFC 5758 Sec. 3.2): the signature algorithm, without parameters. */
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
/** id-at-commonName (RFC 5280 Sec. 4.1.2.4). */
const COMMON_NAME = '2.5.4.3';

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/**
 * Creates a fresh identity: an ECDSA P-256 key and a self-signed X.509 v3 certificate (RFC 5280, valid 100
 * years), with its SHA-256 fingerprint. Give the fingerprint to the other parties (it is public); keep the key.
 * @example
 * ```ts
 * const me = generateIdentity();
 * console.log(me.fingerprint); // share this with the other parties
 * ```
 */
export function generateIdentity(options: IdentityOptions = {}): Identity {
  assertOptions('options', options, ['name']);
  const name = options.name ?? 'ppml-smpc party';
  if (typeof name !== 'string') throw new TypeError(`options.name must be a string, got ${describeValue(name)}`);
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(name)) {
    throw new RangeError(`options.name must be 1 to 64 letters, digits, spaces, '.', '_' or '-', got ${describeValue(name)}`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive serial number (RFC 5280 Sec. 4.1.2.2)
  if (serial[0] === 0) serial[0] = 1;
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  const notAfter = new Date(notBefore.getTime() + 100 * 365.25 * 24 * 3600 * 1000);
  const dn = new Name([
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type: COMMON_NAME, value: new AttributeValue({ utf8String: name }) })]),
  ]);
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_SHA256 });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature: algorithm,
    issuer: dn,
    validity: new Validity({ notBefore, notAfter }),
    subject: dn,
    subjectPublicKeyInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  // node:crypto's ECDSA signature is DER (r, s), the encoding X.509 requires (RFC 5758 Sec. 3.2).
  const signature = sign('sha256', tbsDer, privateKey);
  const der = Buffer.from(
    AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm: algorithm, signatureValue: toArrayBuffer(signature) })),
  );
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END CERTIFICATE-----\n`;
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { privateKeyPem, certificatePem, fingerprint: new X509Certificate(der).fingerprint256 };
}
