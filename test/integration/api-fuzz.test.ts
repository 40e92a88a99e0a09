/**
 * Property-based fuzz of every API route (fast-check): random path parameters (slashes, percent
 * signs, unicode, very long), random query strings (declared fields with wrong types, unknown
 * fields, repeated keys), random bodies (any JSON, non-JSON, wrong content types) and random
 * credentials (none, garbage, a valid admin or viewer token). No input may produce a 5xx, and every
 * error answer has the `{ error: { code, message } }` shape.
 *
 * CW_FUZZ_RUNS sets the runs per route (default 40).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../src/api/route.js';
import { routes } from '../../src/api/routes/index.js';
import type { App } from '../../src/main.js';
import { type TestApi, type TestTokens, testApi, testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { useRedis } from '../support/redis.js';

const RUNS = Number(process.env.CW_FUZZ_RUNS ?? 40);
const r = useRedis('api-fuzz');
let app: App;
let api: TestApi;
let tokens: TestTokens;

beforeAll(async () => {
  tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  app = await testApp(files);
  api = await testApi(app, tokens, { perMinute: 1_000_000 });
}, 60_000);

afterAll(async () => {
  await api?.close();
  await app?.close();
});

const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('..', '%', '%2F', '%00', 'a/b', '?x=1', '#', ' ', 'aws/111111111111/access-key/AKIA0000'),
  fc.string({ minLength: 300, maxLength: 600 }),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(''),
  fc.constantFrom('critical', 'open', 'aws', 'vault', '-1', '1e9', 'null'),
);
const json = fc.jsonValue({ maxDepth: 3 });

function declared(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

function pathOf(route: Route, values: string[]): string {
  let i = 0;
  return route.url.replace(/:[A-Za-z]+|\*/g, () => encodeURIComponent(values[i++] ?? 'x'));
}

const request = (route: Route) =>
  fc.record({
    params: fc.array(segment, { minLength: 3, maxLength: 3 }),
    query: fc.dictionary(fc.oneof(fc.constantFrom(...declared(route.schema.querystring), 'zz'), fc.string()), scalar, {
      maxKeys: 4,
    }),
    body: fc.oneof(
      json,
      fc.dictionary(fc.constantFrom(...declared(route.schema.body), 'extra'), fc.oneof(scalar, json), { maxKeys: 5 }),
      fc.string({ maxLength: 200 }),
    ),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined),
    as: fc.constantFrom('admin-a', 'viewer', null, 'garbage'),
  });

describe('fuzz: no input gives a 5xx', () => {
  for (const route of routes) {
    it(`${route.method} ${route.url}`, async () => {
      await fc.assert(
        fc.asyncProperty(request(route), async (q) => {
          const qs = new URLSearchParams(
            Object.entries(q.query).map(([k, v]): [string, string] => [k, String(v)]),
          ).toString();
          const url = `${pathOf(route, q.params)}${qs ? `?${qs}` : ''}`;
          const headers: Record<string, string> = {};
          if (q.contentType) headers['content-type'] = q.contentType;
          const as =
            q.as === 'garbage'
              ? { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }
              : (q.as as 'admin-a' | 'viewer' | null);
          const body =
            route.method === 'GET'
              ? undefined
              : typeof q.body === 'string' || q.contentType !== 'application/json'
                ? String(typeof q.body === 'string' ? q.body : JSON.stringify(q.body))
                : q.body;
          const res = await api.call(route.method, url, { as, headers, body, from: '198.51.100.1' });
          expect(res.statusCode, `${route.method} ${url} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(
            500,
          );
          if (res.statusCode >= 400 && res.headers['content-type']?.toString().includes('json')) {
            const e = res.json() as { error?: { code?: unknown; message?: unknown } };
            expect(typeof e.error?.code, res.body).toBe('string');
            expect(typeof e.error?.message, res.body).toBe('string');
          }
        }),
        { numRuns: RUNS },
      );
    }, 120_000);
  }
});
