/**
 * The route list and the route files agree: routes/index.ts lists every `*.route.ts` of the folder
 * (so the role matrix of test/integration/api-roles.test.ts covers it), once, and every route's
 * schema is complete enough for the OpenAPI document and for input validation.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/api/route.js';
import { routes } from '../../src/api/routes/index.js';

const DIR = fileURLToPath(new URL('../../src/api/routes/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.route.ts'));

describe('routes/index.ts', () => {
  it('lists every *.route.ts file of the folder, each once', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const mod = (await import(`../../src/api/routes/${f.replace(/\.ts$/, '.js')}`)) as { default: Route };
      expect(mod.default, `${f} has no default route export`).toBeDefined();
      expect(routes, `${f} is missing from routes/index.ts`).toContain(mod.default);
    }
    expect(routes).toHaveLength(files.length);
    expect(new Set(routes).size).toBe(routes.length);
  });

  it('holds no two routes on the same method and path, nor two on one operationId', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    const ids = routes.map((r) => r.schema.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('gives every route a summary and tags, and every API query a closed schema', () => {
    for (const r of routes) {
      const where = `${r.method} ${r.url}`;
      expect(r.schema.operationId, where).toMatch(/^[a-zA-Z]+$/);
      expect(r.schema.summary, where).toBeTruthy();
      expect(r.schema.tags.length, where).toBeGreaterThan(0);
      const qs = r.schema.querystring as { additionalProperties?: boolean } | undefined;
      if (r.method === 'GET' && r.url.startsWith('/api/')) expect(qs?.additionalProperties, where).toBe(false);
      if (r.url.includes('/:')) expect(r.schema.params, `${where} documents its path parameters`).toBeDefined();
      if (r.permission !== 'public') {
        const responses = r.schema.response as Record<string, unknown> | undefined;
        expect(Object.keys(responses ?? {}), `${where} documents 401 and 403`).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
    }
  });
});
