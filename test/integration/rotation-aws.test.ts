/**
 * rotate-key end to end: moto for IAM and STS, a real OpenBao for the delivery. Asserted at the
 * backends themselves: after a rotation the key in KV authenticates as the agent's user against
 * moto's STS, the old key went Inactive and then was deleted, the user has exactly one key, and
 * the KV history has exactly one new version.
 */
import { CreateAccessKeyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/clock.js';
import type { ActionRecord } from '../../src/model/action.js';
import { useMoto } from '../support/moto.js';
import { useOpenBao } from '../support/openbao.js';
import { startWebhookReceiver } from '../support/receivers/webhook.js';
import { keysOfPrefix, useRedis } from '../support/redis.js';
import { keyStatuses, seedUsers, useKeyAfter, withIam } from '../support/remediation-env.js';
import {
  keyWorks,
  type RotationScenario,
  rotatePolicy,
  rotationScenario,
  seedAgents,
} from '../support/rotation-env.js';

const moto = useMoto();
const bao = useOpenBao();
const r = useRedis('rotate-aws');
let n = 0;
let s: RotationScenario | undefined;

afterEach(async () => {
  await s?.close();
  s = undefined;
});

const setUp = async (
  users: string[],
  o: { policies?: string; noDelivery?: string[]; webhook?: { url: string; signingSecretEnv: string } } = {},
) => {
  s = await rotationScenario({ motoEndpoint: moto.endpoint, bao, prefix: `${r.prefix}-${++n}`, users, ...o });
  return s;
};

/** Runs every job queued since `from` (the drive records them instead of a queue). */
async function drain(sc: RotationScenario, from: number): Promise<ActionRecord[]> {
  const ids = [...new Set(sc.queued.slice(from))];
  return sc.execute(ids);
}

const ARN = (user: string) => `arn:aws:iam::111111111111:user/${user}`;

describe('rotate-key', () => {
  it('rotates an agent key end to end: the key in KV works, the old key goes Inactive, then is deleted', async () => {
    const user = `agent-rot-${n}`;
    const sc = await setUp([user], { policies: rotatePolicy('graceHours: 1\npollMinutes: 5\nafterDays: 7') });
    const seeded = await seedAgents(sc, moto.endpoint, [user]);
    const old = seeded[user]!;

    const { executed } = await sc.run('s1');
    expect(executed).toHaveLength(1);
    let rec = executed[0]!;
    expect(rec.state).toBe('in-progress');
    expect(rec.rotation?.step).toBe('adopt');
    const newId = rec.rotation!.newId!;
    expect(newId).not.toBe(old.accessKeyId);

    // KV holds the new key, as version 2, and it authenticates as the user; the old key still works.
    const kv = (await sc.kv(user))!;
    expect(kv.version).toBe(2);
    expect(kv.data.access_key_id).toBe(newId);
    expect(kv.data.region).toBe('us-east-1');
    expect(await keyWorks(moto.endpoint, newId, kv.data.secret_access_key!)).toBe(ARN(user));
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [old.accessKeyId]: 'Active', [newId]: 'Active' });

    // The agent picks up the new key; the next check sees it adopted and deactivates the old one.
    await useKeyAfter(
      moto.endpoint,
      { user, accessKeyId: newId, secretAccessKey: kv.data.secret_access_key! },
      new Date().toISOString(),
    );
    sc.clock.advance(5 * 60_000);
    let from = sc.queued.length - 1;
    rec = (await drain(sc, from))[0]!;
    expect(rec!.rotation?.adopt?.observed).toBe('used');
    expect(rec!.state).toBe('in-progress');
    expect(rec!.rotation?.step).toBe('delete');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [old.accessKeyId]: 'Inactive', [newId]: 'Active' });

    // afterDays later the old key is deleted.
    sc.clock.advance(7 * DAY_MS);
    from = sc.queued.length - 1;
    rec = (await drain(sc, from))[0]!;
    expect(rec!.state).toBe('done');
    expect(rec!.result?.outcome).toBe('done');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [newId]: 'Active' });
    expect(await sc.kvVersions(user)).toEqual([1, 2]);

    // Every step has its intent before its result, in order.
    const events = (await sc.audit()).filter((e) => e.type.startsWith('rotation.')).map((e) => e.type);
    for (const step of ['prepare', 'create', 'deliver', 'verify', 'adopt', 'deactivate', 'delete'])
      expect(events.indexOf(`rotation.${step}.intent`)).toBeLessThan(events.lastIndexOf(`rotation.${step}.result`));
  });

  it('never lets the new secret into Redis, the audit or the action record', async () => {
    const user = `agent-canary-${n}`;
    const sc = await setUp([user], { policies: rotatePolicy('graceHours: 0\nafterDays: 0') });
    await seedAgents(sc, moto.endpoint, [user]);
    const { executed } = await sc.run('s1');
    let rec = executed[0]!;
    for (let i = 0; i < 5 && rec.state === 'in-progress'; i++) {
      sc.clock.advance(60_000);
      rec = (await drain(sc, sc.queued.length - 1))[0]!;
    }
    expect(rec.state).toBe('done');
    const secret = (await sc.kv(user))!.data.secret_access_key!;
    expect(secret.length).toBeGreaterThan(20);
    const dump: string[] = [];
    for (const key of await keysOfPrefix(sc.app.redis, `${sc.app.config.redis.prefix}:`)) {
      const type = await sc.app.redis.type(key);
      if (type === 'string') dump.push((await sc.app.redis.get(key)) ?? '');
      else if (type === 'hash') dump.push(JSON.stringify(await sc.app.redis.hgetall(key)));
      else if (type === 'list') dump.push(JSON.stringify(await sc.app.redis.lrange(key, 0, -1)));
      else if (type === 'zset') dump.push(JSON.stringify(await sc.app.redis.zrange(key, 0, -1)));
      else if (type === 'set') dump.push(JSON.stringify(await sc.app.redis.smembers(key)));
      else if (type === 'stream') dump.push(JSON.stringify(await sc.app.redis.xrange(key, '-', '+')));
    }
    expect(dump.length).toBeGreaterThan(10);
    expect(dump.join('\n')).not.toContain(secret);
    expect(JSON.stringify(await sc.audit())).not.toContain(secret);
    expect(JSON.stringify(rec)).not.toContain(secret);
  });

  it('deletes an Inactive second key credwarden made, and stops at one a person made', async () => {
    const mine = `agent-two-mine-${n}`;
    const theirs = `agent-two-theirs-${n}`;
    const sc = await setUp([mine, theirs], { policies: rotatePolicy('graceHours: 0\nafterDays: 0') });
    const seeded = await seedAgents(sc, moto.endpoint, [mine, theirs]);
    const second: Record<string, string> = {};
    for (const u of [mine, theirs]) {
      const k = (await seedUsersKey(u))!;
      second[u] = k;
    }
    // credwarden's record of the key it made (an earlier rotation of this user left it Inactive).
    await sc.app.redis.hset(sc.app.remediation.store.keys.made(), second[mine]!, 'ap-earlier-rotation');

    const { executed } = await sc.run('s1');
    const byUser = (u: string) =>
      executed.find(
        (x) => x.plan.target.identity.userName === u && x.plan.target.identity.accessKeyId === seeded[u]!.accessKeyId,
      )!;
    let a = byUser(mine);
    const b = byUser(theirs);
    expect(b.state).toBe('failed');
    expect(b.result?.detail).toContain(`second key ${second[theirs]} (Inactive) that credwarden did not make`);
    expect(await keyStatuses(moto.endpoint, theirs)).toEqual({
      [seeded[theirs]!.accessKeyId]: 'Active',
      [second[theirs]!]: 'Inactive',
    });
    expect(await sc.kvVersions(theirs)).toEqual([1]);

    for (let i = 0; i < 5 && a.state === 'in-progress'; i++) {
      sc.clock.advance(60_000);
      a = (await sc.execute([a.plan.id]))[0]!;
    }
    expect(a.state).toBe('done');
    expect(a.rotation?.secondKeyDeleted).toEqual({
      id: second[mine],
      reason: 'Inactive and made by an earlier credwarden rotation',
    });
    expect(await keyStatuses(moto.endpoint, mine)).toEqual({ [a.rotation!.newId!]: 'Active' });
  });

  it('reports a check-and-set conflict: nothing is overwritten, the new key is retired, the old key untouched', async () => {
    const user = `agent-cas-${n}`;
    const sc = await setUp([user]);
    const seeded = await seedAgents(sc, moto.endpoint, [user]);
    // Someone else writes the delivery secret while credwarden creates the key.
    const port = sc.app.remediation.d.ports.aws;
    const create = port.createAccessKey.bind(port);
    port.createAccessKey = async (...args) => {
      const out = await create(...args);
      await sc.putKv(user, { access_key_id: 'written-by-someone-else', secret_access_key: 'x' });
      return out;
    };
    const { executed } = await sc.run('s1');
    const rec = executed[0]!;
    expect(rec.state).toBe('failed');
    expect(rec.result?.detail).toMatch(/check-and-set conflict/);
    expect((await sc.kv(user))?.data.access_key_id).toBe('written-by-someone-else');
    expect(await sc.kvVersions(user)).toEqual([1, 2]);
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [seeded[user]!.accessKeyId]: 'Active' });
  });

  it('retires the new key when the delivery fails for good: no key is left whose secret nobody holds', async () => {
    const user = `agent-denied-${n}`;
    const sc = await setUp([user]);
    const seeded = await seedAgents(sc, moto.endpoint, [user]);
    // The remediation token can read the delivery secret but no longer write it (a 403).
    await sc.setKvCapabilities(['read']);
    const { executed } = await sc.run('s1');
    const rec = executed[0]!;
    expect(rec.state).toBe('failed');
    expect(rec.result?.detail).toMatch(/deliver failed: .*permission denied/);
    expect(rec.result?.detail).toMatch(/retired AKIA\w+ \(the rotation stopped at deliver before delivering it\)/);
    expect(rec.rotation?.orphans).toHaveLength(1);
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [seeded[user]!.accessKeyId]: 'Active' });
    expect(await sc.kvVersions(user)).toEqual([1]);
  });

  it('never starts a rotation for an agent with no delivery target', async () => {
    const user = `agent-nodelivery-${n}`;
    const sc = await setUp([user], { noDelivery: [user] });
    const seeded = await seedUsersOnly(user);
    const { summary, executed } = await sc.run('s1');
    expect(executed).toHaveLength(0);
    expect(summary.byDecision).toEqual({ deny: 1 });
    const rec = (await sc.app.remediation.list())[0]!;
    expect(rec?.decision.reasons.map((x) => x.code)).toContain('no-delivery');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [seeded]: 'Active' });
  });

  it('rolls back before the delete: the old key is Active and back in KV, the new key is gone', async () => {
    const user = `agent-rollback-${n}`;
    const sc = await setUp([user], { policies: rotatePolicy('graceHours: 0\nafterDays: 7') });
    const seeded = await seedAgents(sc, moto.endpoint, [user]);
    const old = seeded[user]!;
    const { executed } = await sc.run('s1');
    let rec = executed[0]!;
    for (let i = 0; i < 5 && rec.rotation?.step !== 'delete'; i++) {
      sc.clock.advance(60_000);
      rec = (await sc.execute([rec.plan.id]))[0]!;
    }
    expect(rec.state).toBe('in-progress');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({
      [old.accessKeyId]: 'Inactive',
      [rec.rotation!.newId!]: 'Active',
    });

    const back = await sc.app.people.rollback(rec.plan.id, 'alice');
    expect(back.state).toBe('rolled-back');
    expect(back.rollback?.by).toBe('alice');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [old.accessKeyId]: 'Active' });
    const kv = (await sc.kv(user))!;
    expect(kv.version).toBe(3);
    expect(kv.data.access_key_id).toBe(old.accessKeyId);
    expect(await keyWorks(moto.endpoint, old.accessKeyId, kv.data.secret_access_key!)).toBe(ARN(user));
    // A rolled-back rotation is settled: a wake-up that was queued does nothing.
    sc.clock.advance(8 * DAY_MS);
    const [after] = await sc.execute([rec.plan.id]);
    expect(after!.state).toBe('rolled-back');
    expect(await keyStatuses(moto.endpoint, user)).toEqual({ [old.accessKeyId]: 'Active' });
  });

  it('waits while remediation is paused and goes on after the resume', async () => {
    const user = `agent-paused-${n}`;
    const sc = await setUp([user], { policies: rotatePolicy('graceHours: 0.05\npollMinutes: 1\nafterDays: 0') });
    await seedAgents(sc, moto.endpoint, [user]);
    const { executed } = await sc.run('s1');
    let rec = executed[0]!;
    expect(rec.state).toBe('in-progress');
    await sc.app.remediation.controls.pause('bob', 'incident');
    sc.clock.advance(60_000);
    rec = (await sc.execute([rec.plan.id]))[0]!;
    expect(rec.state).toBe('in-progress');
    expect(rec.rotation?.waiting).toMatch(/paused by bob/);
    const step = rec.rotation?.step;
    await sc.app.remediation.controls.resume('bob');
    for (let i = 0; i < 5 && rec.state === 'in-progress'; i++) {
      sc.clock.advance(6 * 60_000);
      rec = (await sc.execute([rec.plan.id]))[0]!;
    }
    expect(step).toBe('adopt');
    expect(rec.state).toBe('done');
  });

  it('announces a webhook delivery with a signed reference, never the secret', async () => {
    const user = `agent-webhook-${n}`;
    const secret = `whsec_${Buffer.from('credwarden-rotation-test-signing-key').toString('base64')}`;
    process.env.CW_TEST_ROT_WEBHOOK = secret;
    let clock: { now(): Date } = { now: () => new Date() };
    const receiver = await startWebhookReceiver({ secrets: [secret], now: () => clock.now() });
    try {
      const sc = await setUp([user], {
        policies: rotatePolicy('graceHours: 0\nafterDays: 0'),
        webhook: { url: receiver.url, signingSecretEnv: 'CW_TEST_ROT_WEBHOOK' },
      });
      clock = sc.clock;
      await seedAgents(sc, moto.endpoint, [user]);
      // The first announcement fails (503): the deliver step is retried and announces again.
      receiver.respondWith([503]);
      await sc.scan('s1');
      const { ids } = await sc.plan('s1');
      await expect(sc.execute(ids)).rejects.toThrow(/HTTP 503/);
      const rec = (await sc.execute(ids))[0]!;
      expect(rec!.state).toBe('done');
      const kv = (await sc.kv(user))!;
      expect(await sc.kvVersions(user)).toEqual([1, 2]);
      expect(receiver.requests.map((q) => q.status)).toEqual([503, 204]);
      const last = receiver.requests[1]!;
      expect(last.verified).toBe(true);
      expect(last.headers['webhook-id']).toBe(`${rec!.plan.id}-v2`);
      expect(last.json).toMatchObject({
        type: 'credwarden.credential-rotated',
        rotationId: rec!.plan.id,
        newId: kv.data.access_key_id,
        secretRef: { cluster: 'main', namespace: 'root', mount: 'secret', path: sc.kvPath(user), version: 2 },
      });
      expect(last.rawBody).not.toContain(kv.data.secret_access_key!);
    } finally {
      await receiver.close();
    }
  });
});

/** A second key for the user, made by hand and set Inactive. */
async function seedUsersKey(user: string): Promise<string> {
  return withIam(moto.endpoint, async (a) => {
    const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey!;
    await a.iam.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: k.AccessKeyId!, Status: 'Inactive' }));
    return k.AccessKeyId!;
  });
}

/** The user with one Active key and no delivery secret. */
async function seedUsersOnly(user: string): Promise<string> {
  const made = await seedUsers(moto.endpoint, [{ name: user, keys: ['active'] }]);
  return made[user]![0]!.accessKeyId;
}
