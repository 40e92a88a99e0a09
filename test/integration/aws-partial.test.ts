/**
 * A partial scan on a real AccessDenied: moto enforces IAM auth (reset-auth), the scanner's
 * read role in one account lacks IAM read permissions. That account's unit is marked partial with
 * the denial as its reason, the other account completes, and nothing in the denied account is
 * concluded removed.
 */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import { testApp, writeTestFiles } from '../support/app.js';
import { createRole, createUser, doc, seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('aws-partial');
const OK = '111111111111';
const DENIED = '333333333333';
const registry = { agents: [], unregistered: { aws: { tags: {}, namePatterns: ['agent-*'] } } };

describe('partial scan on AccessDenied', () => {
  let app: App;
  beforeAll(async () => {
    for (const acct of [OK, DENIED]) {
      const s = await seederFor(moto.endpoint, acct);
      await createUser(s, { name: 'agent-one', keys: ['active'] }, moto.endpoint);
      await createRole(
        s,
        {
          name: 'credwarden-reader',
          inline: { read: acct === OK ? doc(['iam:*', 'sts:GetCallerIdentity']) : doc(['sts:GetCallerIdentity']) },
        },
        moto.endpoint,
      );
      s.iam.destroy();
    }
    // The scanner's own identity in the default account: allowed to assume roles.
    const home = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await home.send(new CreateUserCommand({ UserName: 'scanner' }));
    await home.send(
      new PutUserPolicyCommand({
        UserName: 'scanner',
        PolicyName: 'assume',
        PolicyDocument: doc(['sts:AssumeRole', 'sts:GetCallerIdentity']),
      }),
    );
    const key = (await home.send(new CreateAccessKeyCommand({ UserName: 'scanner' }))).AccessKey!;
    home.destroy();
    process.env.AWS_ACCESS_KEY_ID = key.AccessKeyId!;
    process.env.AWS_SECRET_ACCESS_KEY = key.SecretAccessKey!;
    const res = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    expect(res.ok).toBe(true);
    const accounts = [OK, DENIED].map((id) => ({ id, roleArn: `arn:aws:iam::${id}:role/credwarden-reader` }));
    app = await testApp(
      writeTestFiles({ redis: { prefix: r.prefix }, aws: { endpoint: moto.endpoint, accounts } }, registry),
    );
    return () => app.close();
  });

  it('marks the denied account partial, completes the other, and never concludes removal there', async () => {
    const first = await app.orchestrator.runInProcess('p-1', 'test', app.orchestrator.units(), 2);
    expect(first.status).toBe('partial');
    const denied = first.units.find((u) => u.key === `aws/${DENIED}`)!;
    expect(denied.status).toBe('failed');
    expect(denied.problems[0]).toMatchObject({ scope: `aws/${DENIED}/`, code: 'AccessDenied' });
    expect(denied.problems[0]!.message).toMatch(/GetAccountAuthorizationDetails/);
    expect(first.units.find((u) => u.key === `aws/${OK}`)).toMatchObject({ status: 'complete', credentials: 1 });

    // A credential from the denied account known from before must survive a partial scan.
    const known = {
      id: `aws/${DENIED}/access-key/AKIAKNOWNBEFORE00001`,
      kind: 'aws-access-key',
      principal: 'x',
      status: 'active',
      grants: [],
      agentId: null,
    };
    await r.redis.hset(`${r.keyPrefix}:inv:creds`, known.id, JSON.stringify(known));
    const second = await app.orchestrator.runInProcess('p-2', 'test', app.orchestrator.units(), 2);
    expect(second.counts.drift['credential.removed'] ?? 0).toBe(0);
    expect(await r.redis.hexists(`${r.keyPrefix}:inv:creds`, known.id)).toBe(1);
    const finished = (await app.audit.read(1)).filter((e) => e.type === 'scan.finished' && e.subject === 'p-2');
    expect(finished[0]!.data.status).toBe('partial');
  });
});
