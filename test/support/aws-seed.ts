/**
 * Seeds IAM estates into moto with ordinary SDK calls (no vitest here: the demo and the benchmark
 * use it too). Each account is reached by assuming a role in it, exactly as credwarden does.
 */
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreateLoginProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutGroupPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

export const doc = (actions: string[], resource = '*', effect: 'Allow' | 'Deny' = 'Allow') =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: actions, Resource: resource }] });

export const trustDoc = (principal = 'arn:aws:iam::123456789012:root') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });

const base = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

export interface AccountSeeder {
  account: string;
  iam: IAMClient;
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** An IAM client operating in `account` (moto: AssumeRole into any account id works). */
export async function seederFor(endpoint: string, account: string): Promise<AccountSeeder> {
  const sts = new STSClient(base(endpoint));
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/seeder`, RoleSessionName: 'seed' }),
  );
  sts.destroy();
  const creds = {
    accessKeyId: out.Credentials!.AccessKeyId!,
    secretAccessKey: out.Credentials!.SecretAccessKey!,
    sessionToken: out.Credentials!.SessionToken!,
  };
  return { account, creds, iam: new IAMClient({ region: 'us-east-1', endpoint, credentials: creds }) };
}

export interface UserSpec {
  name: string;
  tags?: Record<string, string>;
  groups?: string[];
  inline?: Record<string, string>;
  managed?: string[];
  /** Keys to create; "inactive" keys are deactivated, "used" keys sign one STS call. */
  keys?: ('active' | 'inactive' | 'used')[];
  password?: boolean;
}

export interface CreatedKey {
  user: string;
  accessKeyId: string;
  secretAccessKey: string;
}

const tagList = (t?: Record<string, string>) => Object.entries(t ?? {}).map(([Key, Value]) => ({ Key, Value }));

export async function createPolicy(s: AccountSeeder, name: string, document: string): Promise<string> {
  const out = await s.iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document }));
  return out.Policy!.Arn!;
}

export async function createGroup(
  s: AccountSeeder,
  name: string,
  inline: Record<string, string> = {},
  managed: string[] = [],
): Promise<void> {
  await s.iam.send(new CreateGroupCommand({ GroupName: name }));
  for (const [n, d] of Object.entries(inline))
    await s.iam.send(new PutGroupPolicyCommand({ GroupName: name, PolicyName: n, PolicyDocument: d }));
  for (const arn of managed) await s.iam.send(new AttachGroupPolicyCommand({ GroupName: name, PolicyArn: arn }));
}

export async function createUser(s: AccountSeeder, u: UserSpec, endpoint: string): Promise<CreatedKey[]> {
  await s.iam.send(new CreateUserCommand({ UserName: u.name, Tags: tagList(u.tags) }));
  for (const g of u.groups ?? []) await s.iam.send(new AddUserToGroupCommand({ GroupName: g, UserName: u.name }));
  for (const [n, d] of Object.entries(u.inline ?? {}))
    await s.iam.send(new PutUserPolicyCommand({ UserName: u.name, PolicyName: n, PolicyDocument: d }));
  for (const arn of u.managed ?? [])
    await s.iam.send(new AttachUserPolicyCommand({ UserName: u.name, PolicyArn: arn }));
  if (u.password) await s.iam.send(new CreateLoginProfileCommand({ UserName: u.name, Password: 'Demo-Passw0rd!x' }));
  const keys: CreatedKey[] = [];
  for (const mode of u.keys ?? []) {
    const k = (await s.iam.send(new CreateAccessKeyCommand({ UserName: u.name }))).AccessKey!;
    keys.push({ user: u.name, accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    if (mode === 'inactive')
      await s.iam.send(
        new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: k.AccessKeyId!, Status: 'Inactive' }),
      );
    if (mode === 'used') {
      const sts = new STSClient({
        region: 'us-east-1',
        endpoint,
        credentials: { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! },
      });
      await sts.send(new GetCallerIdentityCommand({}));
      sts.destroy();
    }
  }
  return keys;
}

export interface RoleSpec {
  name: string;
  tags?: Record<string, string>;
  inline?: Record<string, string>;
  managed?: string[];
  boundary?: string;
  maxSessionDuration?: number;
  /** Assume it once (moto then records RoleLastUsed). */
  use?: boolean;
}

export async function createRole(s: AccountSeeder, r: RoleSpec, endpoint: string): Promise<void> {
  await s.iam.send(
    new CreateRoleCommand({
      RoleName: r.name,
      AssumeRolePolicyDocument: trustDoc(),
      Tags: tagList(r.tags),
      ...(r.boundary ? { PermissionsBoundary: r.boundary } : {}),
      ...(r.maxSessionDuration ? { MaxSessionDuration: r.maxSessionDuration } : {}),
    }),
  );
  for (const [n, d] of Object.entries(r.inline ?? {}))
    await s.iam.send(new PutRolePolicyCommand({ RoleName: r.name, PolicyName: n, PolicyDocument: d }));
  for (const arn of r.managed ?? [])
    await s.iam.send(new AttachRolePolicyCommand({ RoleName: r.name, PolicyArn: arn }));
  if (r.use) {
    const sts = new STSClient(base(endpoint));
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${s.account}:role/${r.name}`, RoleSessionName: 'use' }),
    );
    const c = out.Credentials!;
    const as = new STSClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
    await as.send(new GetCallerIdentityCommand({}));
    as.destroy();
    sts.destroy();
  }
}
