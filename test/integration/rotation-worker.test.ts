/**
 * Rotations and re-queued actions through the real BullMQ workers (jobs/workers.ts), not the
 * in-process drive: a rotation's waits are delayed `remediate` jobs that the workers run when
 * they come due, and an action held at execution and allowed by a later run is a NEW job (its
 * attempt is part of the job id), never silently dropped as the completed job of its first attempt.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../jobs/workers.js';
import type { ActionState } from '../../src/model/action.js';
import { ids } from '../../src/queue/names.js';
import { closeQueues, createQueues, type Queues } from '../../src/queue/runtime.js';
import { sleep } from '../../src/util/concurrency.js';
import { useMoto } from '../support/moto.js';
import { useOpenBao } from '../support/openbao.js';
import { useRedis } from '../support/redis.js';
import { keyStatuses, neverUsedPolicy, scenario, seedUsers } from '../support/remediation-env.js';
import {
  keyWorks,
  type RotationScenario,
  rotatePolicy,
  rotationScenario,
  seedAgents,
} from '../support/rotation-env.js';

const moto = useMoto();
const bao = useOpenBao();
const r = useRedis('rotate-worker');
let n = 0;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Binds real queues and workers to the scenario's App (instead of the drive's recording hook). */
function onWorkers(s: { app: RotationScenario['app'] }): { queues: Queues; workers: Workers } {
  const queues = createQueues(s.app);
  const workers = startWorkers(s.app, queues);
  cleanups.push(async () => {
    await workers.close(5000);
    await closeQueues(queues);
  });
  return { queues, workers };
}

describe('through the workers', () => {
  it('runs a rotation to the end on delayed wake-up jobs', async () => {
    const user = `agent-worker-${++n}`;
    const s = await rotationScenario({
      motoEndpoint: moto.endpoint,
      bao,
      prefix: `${r.prefix}-${n}`,
      users: [user],
      // Adoption is checked every 0.6 s and given up waiting for after 4 s of the app's clock.
      policies: rotatePolicy('graceHours: 0.0011\npollMinutes: 0.01\nafterDays: 0'),
    });
    cleanups.push(() => s.close());
    const old = (await seedAgents(s, moto.endpoint, [user]))[user]!;
    const { queues } = onWorkers(s);
    await s.scan('w1');
    const summary = await s.app.remediation.planScan('w1');
    expect(summary.queued).toHaveLength(1);
    const id = summary.queued[0]!;
    // The first job runs to adopt's first check and waits (the clock has not moved yet).
    await until(
      'the rotation to wait for adoption',
      async () => (await s.app.remediation.store.state(id)) === 'in-progress',
    );
    // Then the clock moves on as the worker waits; the delayed jobs come due in real time meanwhile.
    let state: ActionState | null = null;
    await until('the rotation to finish', async () => {
      s.clock.advance(1000);
      state = await s.app.remediation.store.state(id);
      return state === 'done' || state === 'failed';
    });
    const rec = (await s.app.remediation.show(id))!;
    expect(rec.state, rec.result?.detail).toBe('done');
    expect(rec.rotation?.done.map((d) => d.step)).toEqual([
      'prepare',
      'create',
      'deliver',
      'verify',
      'adopt',
      'deactivate',
      'delete',
    ]);
    // At least one wake-up ran as its own delayed job. The job that wrote `done` is still
    // finishing (notifying, then moving to completed) when the record says so: wait for it.
    const wakes = async () =>
      (await queues.remediate.getJobs(['completed'])).filter((j) => j.id?.startsWith(`remediate/${id}/w`));
    await until('a wake-up job to complete', async () => (await wakes()).length > 0, 10_000);
    expect((await wakes()).length).toBeGreaterThan(0);
    const kv = (await s.kv(user))!;
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [kv.data.access_key_id!]: 'Active' });
    expect(kv.data.access_key_id).not.toBe(old.accessKeyId);
    expect(await keyWorks(moto.endpoint, kv.data.access_key_id!, kv.data.secret_access_key!)).toBe(
      `arn:aws:iam::111111111111:user/${user}`,
    );
    expect(await s.kvVersions(user)).toEqual([1, 2]);
  });

  it('runs an action held at execution again when a later run allows it: a new job per attempt', async () => {
    const user = `agent-requeue-${++n}`;
    const s = await scenario({
      motoEndpoint: moto.endpoint,
      prefix: `${r.prefix}-${n}`,
      policies: neverUsedPolicy('[deactivate-key]'),
      remediation: { cooldownHours: 0 },
    });
    cleanups.push(() => s.close());
    const key = (await seedUsers(moto.endpoint, [{ name: user, keys: ['active'] }]))[user]![0]!;
    await s.scan('q1');
    // Planned and queued, then paused before a worker picks it up: held at execution (attempt 1).
    const first = await s.app.remediation.planScan('q1');
    expect(first.queued).toHaveLength(1);
    const id = first.queued[0]!;
    await s.app.remediation.controls.pause('alice', 'drill');
    onWorkers(s);
    await s.app.remediation.enqueue([id]);
    await until('attempt 1 to be held', async () => (await s.app.remediation.store.state(id)) === 'held');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [key.accessKeyId]: 'Active' });
    // Resumed: the next run queues attempt 2 of the same plan, and a worker runs it.
    await s.app.remediation.controls.resume('alice');
    await s.scan('q2');
    const second = await s.app.remediation.planScan('q2');
    expect(second.queued).toEqual([id]);
    await until('attempt 2 to finish', async () => (await s.app.remediation.store.state(id)) === 'done');
    expect((await s.app.remediation.show(id))?.attempt).toBe(2);
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [key.accessKeyId]: 'Inactive' });
    expect(ids.remediate(id, 'a1')).not.toBe(ids.remediate(id, 'a2'));
  });
});
