/**
 * Smoke test of the moto harness (test/support/moto.ts): the real AWS SDK v3 talks to a per-file
 * moto_server, reset() wipes IAM state, and AssumeRole into another account id yields credentials
 * that act in that account (the multi-account pattern other integration tests rely on).
 */
import { CreateUserCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { awsTestClientConfig, useMoto } from '../support/moto.js';

const moto = useMoto();

async function userNames(iam: IAMClient): Promise<string[]> {
  const out = await iam.send(new ListUsersCommand({}));
  return (out.Users ?? []).map((u) => u.UserName ?? '');
}

describe('moto harness', () => {
  it('creates, lists and resets IAM users', async () => {
    const iam = new IAMClient(awsTestClientConfig(moto.endpoint));
    await iam.send(new CreateUserCommand({ UserName: 'agent-bot' }));
    expect(await userNames(iam)).toContain('agent-bot');

    await moto.reset();
    expect(await userNames(iam)).not.toContain('agent-bot');
  });

  it('AssumeRole into another account id acts in that account', async () => {
    const sts = new STSClient(awsTestClientConfig(moto.endpoint));
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/x', RoleSessionName: 'harness' }),
    );
    expect(Credentials?.AccessKeyId).toBeTruthy();

    const assumed = new STSClient({
      ...awsTestClientConfig(moto.endpoint),
      credentials: {
        accessKeyId: Credentials!.AccessKeyId!,
        secretAccessKey: Credentials!.SecretAccessKey!,
        sessionToken: Credentials!.SessionToken!,
      },
    });
    const me = await assumed.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe('111111111111');
  });
});
