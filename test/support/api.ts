/**
 * The HTTP API over a real App for tests: a config whose `api.tokens` holds one token per test
 * subject (hashed with scrypt N=2^14, the cheapest the config accepts), the server built by
 * createApi, and an inject() that sends a subject's bearer token.
 *
 * Subjects: viewer, auditor, oncall-a, oncall-b, admin-a, admin-b (roles by their name).
 */
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { type Api, type ApiOptions, createApi } from '../../src/api/serve.js';
import { hashToken } from '../../src/api/tokens.js';
import type { App } from '../../src/main.js';

export const SUBJECTS = {
  viewer: ['viewer'],
  auditor: ['auditor'],
  'oncall-a': ['oncall'],
  'oncall-b': ['oncall'],
  'admin-a': ['admin'],
  'admin-b': ['admin'],
} as const;
export type Subject = keyof typeof SUBJECTS;

export interface TestTokens {
  /** Subject → its bearer token (random per run). */
  token: Record<Subject, string>;
  /** The `api.tokens` config entries. */
  config: { subject: string; roles: string[]; hash: string }[];
}

/** Random tokens for every test subject and their config entries. */
export async function testTokens(): Promise<TestTokens> {
  const token = {} as Record<Subject, string>;
  const config: TestTokens['config'] = [];
  for (const [subject, roles] of Object.entries(SUBJECTS) as [Subject, readonly string[]][]) {
    token[subject] = randomBytes(24).toString('base64url');
    config.push({ subject, roles: [...roles], hash: await hashToken(token[subject], { N: 16_384, r: 8, p: 1 }) });
  }
  return { token, config };
}

export interface TestApi extends Api {
  /** A request as `as` (a subject, a raw Authorization header value, or nobody). */
  call(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    opts?: {
      as?: Subject | { authorization: string } | null;
      body?: unknown;
      headers?: Record<string, string>;
      /** The client address (default 127.0.0.1): the failed-authentication limit is per address. */
      from?: string;
    },
  ): Promise<LightMyRequestResponse>;
}

export async function testApi(app: App, tokens: TestTokens, opts: ApiOptions = {}): Promise<TestApi> {
  const api = await createApi(app, { sharedRateLimit: false, ...opts });
  await api.server.ready();
  return {
    ...api,
    call(method, url, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.as && typeof o.as === 'object') headers.authorization = o.as.authorization;
      else if (o.as) headers.authorization = `Bearer ${tokens.token[o.as]}`;
      return api.server.inject({
        method,
        url,
        headers,
        ...(o.from ? { remoteAddress: o.from } : {}),
        ...(o.body !== undefined ? { payload: o.body as string | object } : {}),
      });
    },
  };
}
