/**
 * Ed25519 signing for evidence: DSSE envelopes (secure-systems-lab/dsse protocol.md) over in-toto
 * Statements, and signed audit checkpoints. node:crypto only: `crypto.sign(null, …)` (Ed25519
 * takes no digest algorithm; the streaming createSign rejects it).
 *
 * - PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body, lengths in ASCII
 *   decimal bytes; the signature is over PAE, never over the payload alone.
 * - keyid is the sha256 of the public key's SPKI DER, hex: a hint for finding the key, never
 *   trusted for a decision (the verifier is given the key).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CwError, ErrorCodes } from '../errors.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as SPKI PEM (what a pack ships and a verifier is given). */
  publicPem: string;
  keyid: string;
}

export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${body.length} `, 'utf8'),
    body,
  ]);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signingKeyFrom(pem: string, where: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new CwError(ErrorCodes.CONFIG, `${where}: not a PEM private key (${(err as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new CwError(
      ErrorCodes.CONFIG,
      `${where}: an ${privateKey.asymmetricKeyType ?? 'unknown'} key; evidence is signed with Ed25519 (openssl genpkey -algorithm ed25519)`,
    );
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

/**
 * The key of `evidence.signingKey`: PEM text (from an `${env:NAME}` reference) or a path (relative
 * to the config's directory). Null when not configured.
 */
export function loadSigningKey(value: string | undefined, baseDir: string): SigningKey | null {
  if (!value) return null;
  if (value.includes('-----BEGIN')) return signingKeyFrom(value, 'evidence.signingKey (from the environment)');
  const path = isAbsolute(value) ? value : resolve(baseDir, value);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CwError(ErrorCodes.CONFIG, `evidence.signingKey: cannot read ${path}: ${(err as Error).message}`);
  }
  return signingKeyFrom(pem, `evidence.signingKey ${path}`);
}

export function dsseSign(payloadType: string, body: Buffer, key: SigningKey): DsseEnvelope {
  const sig = edSign(null, pae(payloadType, body), key.privateKey);
  return {
    payload: body.toString('base64'),
    payloadType,
    signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }],
  };
}

/** The payload when some signature verifies under `publicKey`; null otherwise. */
export function dsseVerify(env: DsseEnvelope, publicKey: KeyObject): Buffer | null {
  if (typeof env?.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures))
    return null;
  const body = Buffer.from(env.payload, 'base64');
  const message = pae(env.payloadType, body);
  for (const s of env.signatures) {
    if (typeof s?.sig !== 'string') continue;
    if (edVerify(null, message, publicKey, Buffer.from(s.sig, 'base64'))) return body;
  }
  return null;
}
