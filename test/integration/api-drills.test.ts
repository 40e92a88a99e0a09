/**
 * GET /api/v1/drills and /api/v1/drills/{id} over a real App and real Redis, with drills recorded
 * as the drill engine records them (audit events carrying the record, with the store's effects):
 * the list newest first with every field of the record, `limit` 1..200 (default 50; outside, a 400
 * naming query.limit; an unknown field a 400 too), one drill by id (URL-encoded), a 404 for an
 * unknown one, and the viewer role (posture:read) enough for both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { DrillRecord } from '../../src/drill/store.js';
import type { App } from '../../src/main.js';
import { type TestApi, testApi, testTokens } from '../support/api.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { appendDrill, drillRecord, recordDrill, startedRecord } from '../support/drills.js';
import { useRedis } from '../support/redis.js';

const r = useRedis('api-drills');
const T0 = Date.parse('2026-05-04T03:00:00Z');
const at = (h: number) => new Date(T0 + h * 3_600_000);
let app: App;
let api: TestApi;
let clock: ManualClock;
const recs: DrillRecord[] = [];

const get = async (url: string, as: 'viewer' | 'auditor' | null = 'viewer') => {
  const res = await api.call('GET', url, { as });
  return { status: res.statusCode, body: res.json() };
};

beforeAll(async () => {
  const tokens = await testTokens();
  const files = writeTestFiles({ redis: { prefix: r.prefix }, api: { tokens: tokens.config } }, { agents: [] });
  clock = new ManualClock(at(0));
  app = await testApp(files, clock);
  recs.push(
    drillRecord('d-1', at(0)),
    drillRecord('d-2', at(1), {
      scenario: 'stale-token',
      trigger: 'cli',
      by: 'user:alice',
      target: { sourceType: 'vault', source: 'main/drills' },
      status: 'failed',
      stage: 'alert',
      reason: 'no alert within the 15-minute deadline',
      times: { detectMs: 30_000 },
      alert: null,
      remediation: null,
    }),
  );
  for (const rec of recs) await recordDrill(app, clock, rec);
  // A third, still running: recorded only as started.
  const running = startedRecord(drillRecord('d/3:x', at(2), { scenario: 'runaway' }));
  recs.push(running);
  await appendDrill(app, 'drill.started', running, { clock, at: at(2) });
  api = await testApi(app, tokens);
  return async () => {
    await api.close();
    await app.close();
  };
});

describe('GET /api/v1/drills', () => {
  it('lists the drills newest first, each its whole record as stored', async () => {
    const res = await get('/api/v1/drills');
    expect(res.status).toBe(200);
    expect(res.body.drills.map((d: DrillRecord) => d.id)).toEqual(['d/3:x', 'd-2', 'd-1']);
    expect(res.body.drills).toEqual([recs[2], recs[1], recs[0]]);
    expect(res.body.drills).toEqual(await app.drills.list(50));
    expect(res.body.drills[1]).toMatchObject({ status: 'failed', stage: 'alert', times: { detectMs: 30_000 } });
    expect(res.body.drills[2].cleanup).toEqual(recs[0]!.cleanup);
  });

  it('takes limit 1..200 and refuses anything else, naming the field', async () => {
    expect((await get('/api/v1/drills?limit=1')).body.drills.map((d: DrillRecord) => d.id)).toEqual(['d/3:x']);
    expect((await get('/api/v1/drills?limit=200')).body.drills).toHaveLength(3);
    for (const bad of ['limit=0', 'limit=201', 'limit=x', 'status=passed']) {
      const res = await get(`/api/v1/drills?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('CW_ERR_INPUT');
      expect(res.body.error.field).toBe(bad.startsWith('status') ? 'query.status' : 'query.limit');
    }
  });

  it('needs a token; a viewer is enough', async () => {
    expect((await get('/api/v1/drills', null)).status).toBe(401);
    expect((await get('/api/v1/drills', 'auditor')).status).toBe(200);
  });
});

describe('GET /api/v1/drills/{id}', () => {
  it('answers one drill by its (URL-encoded) id, running or finished', async () => {
    const one = await get(`/api/v1/drills/${encodeURIComponent('d-2')}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(recs[1]);
    const running = await get(`/api/v1/drills/${encodeURIComponent('d/3:x')}`);
    expect(running.body).toMatchObject({ id: 'd/3:x', status: 'running', finishedAt: null, cleanup: null });
  });

  it('is a 404 problem for an unknown drill', async () => {
    const res = await get('/api/v1/drills/no-such-drill');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'CW_ERR_NOT_FOUND', message: 'no drill no-such-drill' } });
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json();
    expect(doc.paths['/api/v1/drills'].get.operationId).toBe('listDrills');
    expect(doc.paths['/api/v1/drills/{id}'].get.operationId).toBe('getDrill');
  });
});
