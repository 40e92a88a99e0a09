/**
 * Crash safety of rotate-key, end to end: a real worker process (test/support/fault-rotate-worker.ts)
 * runs one agent's rotation against moto (IAM, STS) and OpenBao (the KV v2 delivery), and is
 * SIGKILLed at one point per trial, then restarted until the rotation is final
 * (test/support/fault-rotate.ts):
 *   - at every step boundary: once `rotation.<step>.intent` is durably in the audit log, and once
 *     `rotation.<step>.result` is (for the waiting steps adopt and delete, both the attempt that
 *     waits and the one that acts), plus create's checkpoint and the action's own `action.intent`,
 *     `action.checked` and `action.result`;
 *   - inside the steps: right after moto or OpenBao answered CreateAccessKey, deliver's
 *     sts:GetCallerIdentity with the new key, the KV write, verify's GetCallerIdentity,
 *     UpdateAccessKey (deactivate) and DeleteAccessKey (delete), the worker never seeing the answer;
 *   - twice: a second kill in the restarted worker while it retires the first one's orphan.
 * Each trial must end with the record done, exactly one key (the new one, Active, in KV, and
 * authenticating as the user through moto's STS), KV versions exactly [1, 2], the orphans the
 * trial implies retired, and a second process polling the KV path every ~20 ms never having seen
 * an instant where the key in KV was not Active in IAM and accepted by STS as the user. A control
 * proves the poller reports such an instant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/queue/connection.js';
import {
  afterAws,
  afterKvWrite,
  afterNewKeyProof,
  atEvent,
  formatTrial,
  type Poller,
  runTrial,
  startPoller,
  type TrialEnv,
  type TrialResult,
  type TrialSpec,
  workerCommand,
} from '../support/fault-rotate.js';
import { type HookProxy, startHookProxy } from '../support/fault-rotate-proxy.js';
import { useMoto } from '../support/moto.js';
import { useOpenBao } from '../support/openbao.js';
import { openTestRedis, useRedis } from '../support/redis.js';
import { ACCOUNT, setKeyStatus } from '../support/remediation-env.js';
import { rotationScenario, seedAgents } from '../support/rotation-env.js';

const moto = useMoto();
const bao = useOpenBao();
const r = useRedis('fault-rotate');
let awsProxy: HookProxy;
let baoProxy: HookProxy;
let poller: Poller;
let redis: RedisClient;
let env: TrialEnv;
let worker: { args: string[]; how: string; cleanup(): void } | undefined;
const results: TrialResult[] = [];
const started = Date.now();

const boundary = (step: string, tryN?: number): TrialSpec[] =>
  (['intent', 'result'] as const).map((phase) => ({
    name: `${step}.${phase}${tryN ? `#${tryN}` : ''}`,
    kills: [atEvent(`rotation.${step}.${phase}`, tryN)],
    // A kill after create's result or at deliver's intent loses the new secret: that key is retired.
    lost: (step === 'create' && phase === 'result') || (step === 'deliver' && phase === 'intent') ? 1 : 0,
  }));

const TRIALS: TrialSpec[] = [
  { name: 'action.intent', kills: [atEvent('action.intent')], lost: 0 },
  { name: 'action.checked', kills: [atEvent('action.checked')], lost: 0 },
  ...boundary('prepare'),
  ...boundary('create'),
  { name: 'create.checkpoint', kills: [atEvent('rotation.create.checkpoint')], lost: 0 },
  ...boundary('deliver'),
  ...boundary('verify'),
  ...boundary('adopt', 1), // the attempt that waits (grace not over)
  ...boundary('adopt', 2), // the attempt after the clock moved past the grace
  ...boundary('deactivate'),
  ...boundary('delete', 1), // the attempt that waits for afterDays
  ...boundary('delete', 2), // the attempt that deletes
  { name: 'action.result', kills: [atEvent('action.result')], lost: 0 },
  { name: 'mid create: CreateAccessKey answered', kills: [afterAws('CreateAccessKey')], lost: 1 },
  { name: 'mid deliver: new key proof answered', kills: [afterNewKeyProof('deliver')], lost: 1 },
  { name: 'mid deliver: KV write answered', kills: [afterKvWrite()], lost: 0 },
  { name: 'mid verify: new key proof answered', kills: [afterNewKeyProof('verify')], lost: 0 },
  { name: 'mid deactivate: UpdateAccessKey answered', kills: [afterAws('UpdateAccessKey')], lost: 0 },
  { name: 'mid delete: DeleteAccessKey answered', kills: [afterAws('DeleteAccessKey')], lost: 0 },
  // Twice: the restarted worker dies while it retires the first one's orphan, or creates again.
  {
    name: 'twice: CreateAccessKey, then orphan UpdateAccessKey',
    kills: [afterAws('CreateAccessKey'), afterAws('UpdateAccessKey')],
    lost: 1,
  },
  {
    name: 'twice: create.result, then orphan UpdateAccessKey',
    kills: [atEvent('rotation.create.result'), afterAws('UpdateAccessKey')],
    lost: 1,
  },
  {
    name: 'twice: create.result, then orphan DeleteAccessKey',
    kills: [atEvent('rotation.create.result'), afterAws('DeleteAccessKey')],
    lost: 1,
  },
  // A key an earlier attempt made and never recorded is named (a create checkpoint) before it
  // is retired, so even a worker that dies after retiring it leaves it in the audit.
  {
    name: 'twice: CreateAccessKey, then orphan DeleteAccessKey',
    kills: [afterAws('CreateAccessKey'), afterAws('DeleteAccessKey')],
    lost: 1,
  },
  {
    name: 'twice: CreateAccessKey, then CreateAccessKey',
    kills: [afterAws('CreateAccessKey'), afterAws('CreateAccessKey')],
    lost: 2,
  },
];

/**
 * `CW_FAULT_ROTATE_SAMPLE=1` (the test script sets it for the Node 24 run, to keep CI inside its
 * budget) runs a fixed sample: the kills that lose a secret, the KV write, a boundary of every
 * later step and one double kill. The kill points do not depend on the Node version; every one
 * runs on Node 20.
 */
const SAMPLE = new Set([
  'create.result',
  'deliver.intent',
  'mid create: CreateAccessKey answered',
  'mid deliver: KV write answered',
  'verify.result',
  'adopt.intent#2',
  'deactivate.result',
  'delete.intent#2',
  'twice: CreateAccessKey, then CreateAccessKey',
]);
const RUN = process.env.CW_FAULT_ROTATE_SAMPLE === '1' ? TRIALS.filter((t) => SAMPLE.has(t.name)) : TRIALS;

describe('SIGKILLed rotate-key workers: one live key, no orphan, no duplicate KV version', () => {
  beforeAll(async () => {
    awsProxy = await startHookProxy(moto.endpoint);
    baoProxy = await startHookProxy(bao.address, { stripV1: true });
    redis = openTestRedis();
    poller = await startPoller();
    worker = await workerCommand();
    env = {
      motoEndpoint: moto.endpoint,
      bao,
      awsProxy,
      baoProxy,
      redis,
      prefix: r.prefix,
      poller,
      workerArgs: worker.args,
    };
  }, 60_000);

  afterAll(async () => {
    if (results.length) {
      const lines = results.map(formatTrial);
      const failed = results.filter((x) => x.problems.length).length;
      lines.push(
        `${results.length} trials (workers: ${worker?.how}), ${failed} failed, ${results.reduce((a, x) => a + x.ms, 0)} ms in trials, ${Date.now() - started} ms in all`,
      );
      process.stderr.write(`${lines.join('\n')}\n`);
    }
    await poller?.close();
    await awsProxy?.close();
    await baoProxy?.close();
    redis?.disconnect();
    worker?.cleanup();
  }, 30_000);

  it('control: the poller reports an instant when the key in KV is Inactive or not the user', async () => {
    const user = 'agent-fkr-control';
    const sc = await rotationScenario({
      motoEndpoint: moto.endpoint,
      bao,
      prefix: `${r.prefix}-control`,
      users: [user],
    });
    try {
      const old = (await seedAgents(sc, moto.endpoint, [user]))[user]!;
      const target = {
        baoAddress: bao.address,
        rootToken: bao.rootToken,
        kvPath: sc.kvPath(user),
        motoEndpoint: moto.endpoint,
        account: ACCOUNT,
        user,
      };
      // Quiet: nothing wrong, nothing reported.
      await poller.watch({ label: 'control-quiet', ...target });
      await new Promise((res) => setTimeout(res, 300));
      const quiet = (await poller.stop())!;
      expect(quiet.polls).toBeGreaterThan(3);
      expect(quiet.violations).toEqual([]);

      // The key in KV goes Inactive for a moment (moto's STS would still accept it).
      await poller.watch({ label: 'control-inactive', ...target });
      await setKeyStatus(moto.endpoint, user, old.accessKeyId, 'Inactive');
      await new Promise((res) => setTimeout(res, 250));
      await setKeyStatus(moto.endpoint, user, old.accessKeyId, 'Active');
      await new Promise((res) => setTimeout(res, 100));
      const inactive = (await poller.stop())!;
      expect(inactive.violations.length).toBeGreaterThan(0);
      expect(inactive.violations[0]!.why).toContain('IAM lists it Inactive');
      expect(inactive.violations[0]!.keyId).toBe(old.accessKeyId);

      // A key IAM does not know is in KV for a moment.
      await poller.watch({ label: 'control-unknown', ...target });
      await sc.putKv(user, { access_key_id: 'AKIAUNKNOWNUNKNOWN00', secret_access_key: 'x'.repeat(40) });
      await new Promise((res) => setTimeout(res, 250));
      await sc.putKv(user, { access_key_id: old.accessKeyId, secret_access_key: old.secretAccessKey });
      await new Promise((res) => setTimeout(res, 100));
      const unknown = (await poller.stop())!;
      expect(unknown.violations.length).toBeGreaterThan(0);
      expect(unknown.violations[0]!.why).toMatch(
        /IAM lists it absent; sts:GetCallerIdentity answers .*, not arn:aws:iam::111111111111:user\/agent-fkr-control/,
      );
    } finally {
      await sc.close();
    }
  }, 30_000);

  it.each(RUN.map((t) => [t.name, t] as const))(
    'SIGKILL at %s, then restart',
    async (_name, spec) => {
      const result = await runTrial(env, spec);
      results.push(result);
      expect(result.problems, formatTrial(result)).toEqual([]);
    },
    90_000,
  );
});
