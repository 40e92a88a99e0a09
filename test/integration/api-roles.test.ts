/**
 * The role matrix of the HTTP API, for EVERY route of routes/index.ts (the list is iterated, so a
 * route added later is covered without touching this file), over a real App and real Redis:
 * - no token: 401 with the bearer challenge, and a body that names no configured subject;
 * - a malformed header or an unknown token: the same 401;
 * - each test subject: past authentication when its roles grant the route's permission (can()),
 *   else 403, whose body holds no token and no token hash;
 * - public routes never ask for a token.
 * Path parameters are filled with ids that exist nowhere and write routes get an empty body, so
 * an allowed role gets 404, 400 or 409 (or 2xx where nothing is needed), never 401 or 403.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { can } from '../../src/api/roles.js';
import type { Route } from '../../src/api/route.js';
import { routes } from '../../src/api/routes/index.js';
import type { App } from '../../src/main.js';
import { SUBJECTS, type Subject, type TestApi, type TestTokens, testApi, testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('api-roles');
let app: App;
let api: TestApi;
let tokens: TestTokens;

const subjects = Object.keys(SUBJECTS) as Subject[];

/** The route's URL with every path parameter an id that exists nowhere (encoded, as clients send it). */
const urlOf = (route: Route): string =>
  route.url
    .replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(`no-such-${name}/x:1`))
    .replace(/\*$/, 'no-such-path');

const call = (
  route: Route,
  as: Parameters<TestApi['call']>[2] extends infer O ? (O extends { as?: infer A } ? A : never) : never,
) => api.call(route.method, urlOf(route), { as, ...(route.method === 'GET' ? {} : { body: {} }) });

/** Headers that carry no valid token: none of them may get past authentication. */
const BAD_AUTH = [
  'Basic dmlld2VyOnZpZXdlcg==',
  'Bearer',
  `Bearer ${'x'.repeat(5000)}`,
  'Bearer not a token',
  'Bearer cw_unknown_0123456789abcdefghijklmnopqrst',
];

beforeAll(async () => {
  tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  app = await testApp(files);
  // Every unknown token is a failed verification from the same address: let them all through to 401.
  api = await testApi(app, tokens, {
    authLimits: { failuresPerWindow: 1_000_000, windowMs: 60_000, concurrent: 4, queued: 1000 },
  });
  return async () => {
    await api.close();
    await app.close();
  };
});

/** Neither a token nor its hash, nor (for a 401) any subject name, appears in an answer. */
function expectNothingRevealed(body: string, opts: { subjects: boolean }) {
  for (const s of subjects) {
    expect(body).not.toContain(tokens.token[s]);
    if (opts.subjects) expect(body).not.toContain(s);
  }
  for (const c of tokens.config) expect(body).not.toContain(c.hash.split('$').at(-1));
}

describe('the role matrix', () => {
  it('covers API routes of every kind', () => {
    expect(routes.some((x) => x.permission === 'public')).toBe(true);
    expect(routes.some((x) => x.permission === 'posture:read')).toBe(true);
    expect(routes.some((x) => x.permission === 'audit:read')).toBe(true);
  });

  for (const route of routes) {
    const name = `${route.method} ${route.url} (${route.permission})`;

    if (route.permission === 'public') {
      it(`${name}: never asks for a token`, async () => {
        for (const as of [null, { authorization: BAD_AUTH[4]! }, 'viewer' as const]) {
          const res = await call(route, as);
          expect(res.statusCode, `${name} as ${JSON.stringify(as)}`).not.toBe(403);
          expect(res.headers['www-authenticate']).toBeUndefined();
          expect(res.body).not.toContain('CW_ERR_UNAUTHENTICATED');
          if (route.method === 'GET') expect(res.statusCode).toBe(200);
        }
      });
      continue;
    }
    const permission = route.permission;

    it(`${name}: 401 without a valid token, naming no subject`, async () => {
      for (const as of [null, ...BAD_AUTH.map((authorization) => ({ authorization }))]) {
        const res = await call(route, as);
        expect(res.statusCode, `${name} with ${JSON.stringify(as)?.slice(0, 40)}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="credwarden"');
        expect(res.json().error.code).toBe('CW_ERR_UNAUTHENTICATED');
        expectNothingRevealed(res.body, { subjects: true });
      }
    });

    it(`${name}: each role gets past authentication exactly when it holds ${permission}`, async () => {
      for (const s of subjects) {
        const res = await call(route, s);
        const allowed = can([...SUBJECTS[s]], permission);
        const what = `${name} as ${s} (${SUBJECTS[s].join(',')}): ${res.statusCode} ${res.body.slice(0, 200)}`;
        if (allowed) {
          expect([401, 403], what).not.toContain(res.statusCode);
          expect(res.statusCode, what).toBeLessThan(500);
          if (res.statusCode >= 400) expect(res.json().error.code, what).not.toMatch(/UNAUTHENTICATED|FORBIDDEN/);
          // The route itself answered (its URL matched), not the router's catch-all.
          expect(res.body, what).not.toContain('no route ');
        } else {
          expect(res.statusCode, what).toBe(403);
          expect(res.json().error.code).toBe('CW_ERR_FORBIDDEN');
          expect(res.json().error.message).toContain(permission);
          expectNothingRevealed(res.body, { subjects: false });
        }
      }
    });
  }
});

describe('the OpenAPI document', () => {
  it('documents every route but the hidden ones, with its path parameters', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json() as { paths: Record<string, Record<string, unknown>> };
    for (const route of routes) {
      if ((route.schema as { hide?: boolean }).hide) continue;
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(doc.paths[path], `${route.method} ${path}`).toHaveProperty(route.method.toLowerCase());
    }
    expect(doc.paths['/api/v1/credentials/{id}']).toBeDefined();
  });
});
