/** Standard Webhooks signing: the spec's reference vector, rotation, and refusals. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeWebhookSecret, isValidWebhookSecret, signStandardWebhook } from '../../src/alerts/sign.js';
import { CwError } from '../../src/errors.js';

// The "sign function works" vector of standard-webhooks/standard-webhooks,
// libraries/javascript/src/webhook.test.ts (the same one the spec's libraries share).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const OTHER = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('signStandardWebhook', () => {
  it('should reproduce the Standard Webhooks reference signature', () => {
    const { id, timestamp, body, secret } = VECTOR;
    expect(signStandardWebhook({ id, timestamp, body, secrets: [secret] })).toBe(VECTOR.signature);
  });

  it('should sign with every secret, space-separated, in order (rotation)', () => {
    const { id, timestamp, body, secret } = VECTOR;
    const header = signStandardWebhook({ id, timestamp, body, secrets: [OTHER, secret] });
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(VECTOR.signature);
    const key = Buffer.alloc(32, 7);
    const want = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    expect(parts[0]).toBe(`v1,${want}`);
  });

  it('should sign the body as given: one byte changes the signature', () => {
    const { id, timestamp, secret } = VECTOR;
    const a = signStandardWebhook({ id, timestamp, body: '{"test":2432232314}', secrets: [secret] });
    expect(a).not.toBe(VECTOR.signature);
  });

  it('should sign non-ASCII bodies as UTF-8', () => {
    const key = Buffer.alloc(24, 1);
    const secret = `whsec_${key.toString('base64')}`;
    const body = '{"t":"schlüssel 🔑"}';
    const want = createHmac('sha256', key)
      .update(Buffer.from(`m1.5.${body}`, 'utf8'))
      .digest('base64');
    expect(signStandardWebhook({ id: 'm1', timestamp: 5, body, secrets: [secret] })).toBe(`v1,${want}`);
  });

  it.each([
    ['an id with a "."', { id: 'a.b' }],
    ['an empty id', { id: '' }],
    ['a fractional timestamp', { timestamp: 1.5 }],
    ['no secrets', { secrets: [] }],
    ['a secret without the prefix', { secrets: ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }],
  ])('should refuse %s with a CwError', (_what, override) => {
    const input = {
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
      body: VECTOR.body,
      secrets: [VECTOR.secret],
      ...override,
    };
    expect(() => signStandardWebhook(input)).toThrow(CwError);
  });
});

describe('decodeWebhookSecret', () => {
  it('should decode the base64 after whsec_', () => {
    expect(decodeWebhookSecret(VECTOR.secret)).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  });

  it.each([
    ['too short (16 bytes)', `whsec_${Buffer.alloc(16).toString('base64')}`],
    ['not base64', 'whsec_not*base64*at*all*but*long*enough*'],
    ['padding in the middle', 'whsec_MfKQ=9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
  ])('should reject a secret that is %s, without echoing it', (_what, secret) => {
    expect(isValidWebhookSecret(secret)).toBe(false);
    try {
      decodeWebhookSecret(secret);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret.slice(6));
    }
  });

  it('should accept exactly 24 bytes', () => {
    expect(isValidWebhookSecret(`whsec_${Buffer.alloc(24, 3).toString('base64')}`)).toBe(true);
  });
});
