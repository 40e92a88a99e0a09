/**
 * The checkpoint format (src/audit/checkpoint.ts): what makeCheckpoint signs, byte for byte as the
 * header documents it, and what readCheckpoint refuses: a tampered payload, another key, a
 * malformed envelope, a validly signed payload that is not a v1 checkpoint.
 */
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_PAYLOAD_TYPE,
  CHECKPOINT_TYPE,
  inspectCheckpoint,
  makeCheckpoint,
  readCheckpoint,
} from '../../src/audit/checkpoint.js';
import { type DsseEnvelope, dsseSign, keyIdOf, type SigningKey, signingKeyFrom } from '../../src/evidence/signing.js';

function newKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFrom(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'test key');
}

const key = newKey();
const other = newKey();
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const head = { seq: 42, hash: hex('event 42') };
const chainId = hex('event 1');
const now = new Date('2026-11-01T10:00:00.123Z');

describe('makeCheckpoint', () => {
  it('signs the canonical payload with DSSE over PAE, as the header documents', () => {
    const env = makeCheckpoint(head, chainId, key, now);
    expect(env.payloadType).toBe(CHECKPOINT_PAYLOAD_TYPE);
    const body = Buffer.from(env.payload, 'base64');
    expect(body.toString('utf8')).toBe(
      `{"_type":"${CHECKPOINT_TYPE}","chainId":"${chainId}","hash":"${head.hash}","seq":42,"time":"2026-11-01T10:00:00.123Z"}`,
    );
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0]!.keyid).toBe(keyIdOf(key.publicKey));
    // PAE written out by hand: "DSSEv1" SP len(type) SP type SP len(body) SP body.
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${CHECKPOINT_PAYLOAD_TYPE.length} ${CHECKPOINT_PAYLOAD_TYPE} ${body.length} `),
      body,
    ]);
    expect(verify(null, pae, key.publicKey, Buffer.from(env.signatures[0]!.sig, 'base64'))).toBe(true);
    expect(readCheckpoint(env, key.publicKey)).toEqual({
      _type: CHECKPOINT_TYPE,
      chainId,
      seq: 42,
      hash: head.hash,
      time: '2026-11-01T10:00:00.123Z',
    });
  });

  it('refuses to sign an empty head or a hash that is not 64 hex digits', () => {
    expect(() => makeCheckpoint({ seq: 0, hash: '0'.repeat(64) }, chainId, key, now)).toThrow(/cannot checkpoint/);
    expect(() => makeCheckpoint({ seq: 1, hash: 'abc' }, chainId, key, now)).toThrow(/cannot checkpoint/);
    expect(() => makeCheckpoint(head, 'not-a-chain', key, now)).toThrow(/cannot checkpoint/);
  });
});

describe('readCheckpoint', () => {
  const env = makeCheckpoint(head, chainId, key, now);
  const problem = (e: unknown, k = key) => {
    const r = inspectCheckpoint(e, k.publicKey);
    expect(readCheckpoint(e, k.publicKey)).toBeNull();
    return 'problem' in r ? r.problem : 'accepted';
  };

  it('refuses a tampered payload (the signature covers its bytes)', () => {
    const body = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...body, seq: 7 })).toString('base64');
    expect(problem({ ...env, payload: forged })).toMatch(/no signature verifies/);
    // The payload type is signed too (PAE): relabelling breaks the signature or fails the type check.
    expect(problem({ ...env, payloadType: 'application/vnd.in-toto+json' })).toMatch(/payloadType/);
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    sig[0]! ^= 1;
    expect(problem({ ...env, signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] })).toMatch(
      /no signature verifies/,
    );
  });

  it('refuses a checkpoint signed by another key, whatever keyid it claims', () => {
    const theirs = makeCheckpoint(head, chainId, other, now);
    expect(problem(theirs)).toMatch(/no signature verifies/);
    expect(problem({ ...theirs, signatures: [{ keyid: key.keyid, sig: theirs.signatures[0]!.sig }] })).toMatch(
      /no signature verifies/,
    );
    expect(readCheckpoint(theirs, other.publicKey)).not.toBeNull();
    // One good signature among several is enough.
    const both: DsseEnvelope = { ...env, signatures: [...theirs.signatures, ...env.signatures] };
    expect(readCheckpoint(both, key.publicKey)).not.toBeNull();
  });

  it('refuses malformed envelopes without throwing', () => {
    for (const bad of [null, 'x', 42, [], {}, { payload: env.payload }, { ...env, signatures: 'no' }]) {
      expect(problem(bad)).toMatch(/not a DSSE envelope/);
    }
    expect(problem({ ...env, signatures: [] })).toMatch(/no signature verifies/);
    expect(problem({ ...env, signatures: [{ keyid: 'k' }, null, { sig: 5 }] })).toMatch(/no signature verifies/);
    expect(problem({ ...env, signatures: [{ keyid: 'k', sig: '%%%not base64' }] })).toMatch(/no signature verifies/);
    expect(problem({ ...env, payload: '' })).toMatch(/no signature verifies/);
  });

  it('refuses a validly signed payload that is not a v1 checkpoint', () => {
    const signed = (body: unknown) =>
      dsseSign(
        CHECKPOINT_PAYLOAD_TYPE,
        Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
        key,
      );
    const good = { _type: CHECKPOINT_TYPE, chainId, seq: 42, hash: head.hash, time: now.toISOString() };
    expect(readCheckpoint(signed(good), key.publicKey)).toEqual(good);
    expect(problem(signed('not json'))).toMatch(/not JSON/);
    expect(problem(signed([good]))).toMatch(/not a JSON object/);
    expect(problem(signed({ ...good, extra: 1 }))).toMatch(/keys/);
    const { time: _t, ...noTime } = good;
    expect(problem(signed(noTime))).toMatch(/keys/);
    expect(problem(signed({ ...good, _type: 'https://credwarden.dev/checkpoint/v2' }))).toMatch(/_type/);
    expect(problem(signed({ ...good, chainId: chainId.toUpperCase() }))).toMatch(/chainId/);
    expect(problem(signed({ ...good, hash: 'abc' }))).toMatch(/hash/);
    for (const seq of [0, -1, 1.5, '42', 2 ** 53]) expect(problem(signed({ ...good, seq }))).toMatch(/seq/);
    for (const time of ['yesterday', '2026-11-01 10:00:00Z', '2026-11-01T10:00:00+01:00', 5])
      expect(problem(signed({ ...good, time }))).toMatch(/time/);
  });
});
