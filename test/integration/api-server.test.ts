/**
 * The API server as a whole, over a real App on real Redis: health and readiness, 401/403/429
 * without revealing which tokens exist, the per-address limit on failed authentications (no scrypt
 * work once it is reached), the per-subject rate limit, security headers, the error body with its
 * field, and the OpenAPI 3.1 document (validated against the OpenAPI schema).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { type TestApi, type TestTokens, testApi, testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('api-server');
let app: App;
let api: TestApi;
let tokens: TestTokens;

beforeAll(async () => {
  tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  app = await testApp(files);
  api = await testApi(app, tokens, {
    authLimits: { failuresPerWindow: 3, windowMs: 60_000, concurrent: 2, queued: 8 },
    perMinute: 40,
  });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await app?.close();
});

const subjects = () => tokens.config.map((t) => t.subject);

describe('health', () => {
  it('/healthz answers without a token; /readyz checks Redis, the queues and the audit file', async () => {
    expect((await api.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await api.call('GET', '/readyz');
    expect([ready.statusCode, ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { redis: 'ok', queues: 'ok', audit: 'ok' } },
    ]);
  });
});

describe('authentication', () => {
  it('401 without a token, with a malformed header and with an unknown token, the same body each time', async () => {
    const bodies = new Set<string>();
    for (const as of [null, { authorization: 'Basic abc' }, { authorization: 'Bearer not-a-known-token-0000000000' }]) {
      const res = await api.call('GET', '/api/v1/remediation', { as, headers: { 'x-forwarded-for': '10.0.0.1' } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="credwarden"');
      bodies.add(res.body);
      for (const s of subjects()) expect(res.body).not.toContain(s);
    }
    expect([...bodies]).toEqual([
      JSON.stringify({ error: { code: 'CW_ERR_UNAUTHENTICATED', message: 'a valid bearer token is required' } }),
    ]);
  });

  it('403 names the permission, never a token or subject', async () => {
    const res = await api.call('POST', '/api/v1/remediation/pause', { as: 'viewer', body: { reason: 'x' } });
    expect([res.statusCode, res.json()]).toEqual([
      403,
      { error: { code: 'CW_ERR_FORBIDDEN', message: "this token's roles do not grant remediation:pause" } },
    ]);
    expect(res.body).not.toContain(tokens.token.viewer);
    expect(await app.remediation.controls.pauseState()).toBeNull();
  });
});

describe('limits', () => {
  it('after failuresPerWindow failed verifications an address gets 429 with no scrypt work; a remembered token still passes', async () => {
    // A token verified once is remembered: it passes even from an address that is being limited.
    expect((await api.call('GET', '/metrics', { as: 'auditor' })).statusCode).toBe(200);
    const bad = { authorization: 'Bearer wrong-token-aaaaaaaaaaaaaaaaaaaaaaa' };
    const statuses: number[] = [];
    const t0 = Date.now();
    const from = '192.0.2.7';
    for (let i = 0; i < 6; i++)
      statuses.push((await api.call('GET', '/api/v1/remediation', { as: bad, from })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // The three 429s did no hashing: six scrypt-verified failures (x 6 hashes, N=2^14) would take far longer
    // than three; measure the refused ones alone.
    const t1 = Date.now();
    for (let i = 0; i < 3; i++)
      expect((await api.call('GET', '/api/v1/remediation', { as: bad, from })).statusCode).toBe(429);
    const refusedMs = Date.now() - t1;
    expect(refusedMs).toBeLessThan((t1 - t0) / 3);
    expect((await api.call('GET', '/metrics', { as: 'auditor', from })).statusCode).toBe(200);
    // Another address is not limited by this one's failures.
    expect((await api.call('GET', '/metrics', { as: 'oncall-b', from: '192.0.2.8' })).statusCode).toBe(200);
  });

  it('rate-limits per subject: the request over the limit gets 429, another subject is unaffected', async () => {
    const got: number[] = [];
    for (let i = 0; i < 42; i++)
      got.push((await api.call('GET', '/api/v1/remediation', { as: 'oncall-a' })).statusCode);
    expect(got.slice(0, 40).every((c) => c === 200)).toBe(true);
    expect(got.slice(40)).toEqual([429, 429]);
    const limited = await api.call('GET', '/api/v1/remediation', { as: 'oncall-a' });
    expect(limited.json().error.code).toBe('CW_ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    // Per subject, not per address: the same client address with another token is served.
    expect((await api.call('GET', '/api/v1/remediation', { as: 'admin-b' })).statusCode).toBe(200);
  });
});

describe('responses', () => {
  it('sets security headers', async () => {
    const res = await api.call('GET', '/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('a bad body is a 400 naming the field; an unknown field is refused, never dropped', async () => {
    const missing = await api.call('POST', '/api/v1/remediation/pause', { as: 'admin-a', body: {} });
    expect([missing.statusCode, missing.json().error]).toEqual([
      400,
      { code: 'CW_ERR_INPUT', message: 'body.reason is required', field: 'body.reason' },
    ]);
    const extra = await api.call('POST', '/api/v1/remediation/pause', {
      as: 'admin-a',
      body: { reason: 'drill', force: true },
    });
    expect([extra.statusCode, extra.json().error.field]).toEqual([400, 'body.force']);
    const notJson = await api.call('POST', '/api/v1/remediation/pause', {
      as: 'admin-a',
      body: '{"reason":',
      headers: { 'content-type': 'application/json' },
    });
    expect([notJson.statusCode, notJson.json().error.code]).toEqual([400, 'CW_ERR_INPUT']);
    expect(await app.remediation.controls.pauseState()).toBeNull();
  });

  it('an unknown route is a 404 in the same error shape', async () => {
    const res = await api.call('GET', '/api/v1/nope', { as: 'viewer' });
    expect([res.statusCode, res.json()]).toEqual([
      404,
      { error: { code: 'CW_ERR_NOT_FOUND', message: 'no route GET /api/v1/nope' } },
    ]);
  });

  it('/metrics is Prometheus text for a posture reader', async () => {
    const res = await api.call('GET', '/metrics', { as: 'viewer' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^# HELP /m);
    expect(res.body).toContain('credwarden_remediation_paused 0');
    expect((await api.call('GET', '/metrics')).statusCode).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('serves a valid OpenAPI 3.1 document with every route and bearer security on the protected ones', async () => {
    const res = await api.call('GET', '/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/metrics', '/api/v1/actions/{id}/approve']));
    expect(doc.paths['/api/v1/actions/{id}/approve'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    const ids = Object.values(doc.paths).flatMap((p) =>
      Object.values(p as Record<string, { operationId: string }>).map((o) => o.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});
