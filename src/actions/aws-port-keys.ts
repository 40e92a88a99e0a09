/**
 * IamKeyWrites: the access keys and login profile of one IAM user, for IamWritePort (aws-port.ts),
 * sent through IamCalls (aws-port-calls.ts). `callerArn` is the one STS call: it signs
 * sts:GetCallerIdentity with the key itself, so a rotation can prove a new key works.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { CwError, ErrorCodes } from '../errors.js';
import { awsErrorName, toCwError } from '../sources/aws/errors.js';
import { Secret } from '../util/secret.js';
import type { IamCalls } from './aws-port-calls.js';
import { exactId } from './aws-support.js';

/** An STS client signed with one access key (rotation proves a new key works with it); destroyed after one call. */
export type StsWithKey = (creds: { accessKeyId: string; secretAccessKey: string }) => STSClient;

/** Errors STS answers a key it does not accept with (not yet propagated, deleted, inactive). */
const KEY_NOT_ACCEPTED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'AuthFailure',
  'InvalidAccessKeyId',
]);

export class IamKeyWrites {
  constructor(
    private readonly io: IamCalls,
    private readonly stsWithKey: StsWithKey | null,
  ) {}

  async getAccessKey(account: string, userName: string, accessKeyId: string) {
    exactId('AccessKeyId', accessKeyId);
    const keys = await this.io.pages(
      account,
      'ListAccessKeys',
      `of user ${exactId('UserName', userName)}`,
      (iam, Marker) => iam.send(new ListAccessKeysCommand({ UserName: userName, ...(Marker ? { Marker } : {}) })),
      (p) => p.AccessKeyMetadata,
    );
    const k = keys?.find((x) => x.AccessKeyId === accessKeyId);
    if (!k) return null;
    if (k.Status !== 'Active' && k.Status !== 'Inactive')
      throw new CwError(ErrorCodes.AWS, `account ${account}: key ${accessKeyId} has an unknown status "${k.Status}"`);
    return { status: k.Status, createDate: k.CreateDate ? k.CreateDate.toISOString() : null };
  }

  async listAccessKeys(account: string, userName: string) {
    const keys = await this.io.pages(
      account,
      'ListAccessKeys',
      `of user ${exactId('UserName', userName)}`,
      (iam, Marker) => iam.send(new ListAccessKeysCommand({ UserName: userName, ...(Marker ? { Marker } : {}) })),
      (p) => p.AccessKeyMetadata,
    );
    if (keys === null) return null;
    return keys.map((k) => {
      if (!k.AccessKeyId || (k.Status !== 'Active' && k.Status !== 'Inactive'))
        throw new CwError(
          ErrorCodes.AWS,
          `account ${account}: user ${userName} lists a key with no id or an unknown status`,
        );
      return {
        accessKeyId: k.AccessKeyId,
        status: k.Status,
        createDate: k.CreateDate ? k.CreateDate.toISOString() : null,
      };
    });
  }

  async createAccessKey(account: string, userName: string) {
    const cmd = new CreateAccessKeyCommand({ UserName: exactId('UserName', userName) });
    const out = await this.io.send(account, 'CreateAccessKey', `for user ${userName}`, (iam) => iam.send(cmd));
    const k = out?.AccessKey;
    if (!k?.AccessKeyId || !k.SecretAccessKey || k.UserName !== userName)
      throw new CwError(
        ErrorCodes.AWS,
        `account ${account}: CreateAccessKey for ${userName} returned no key for that user`,
      );
    return {
      accessKeyId: exactId('AccessKeyId', k.AccessKeyId),
      secret: new Secret(k.SecretAccessKey),
      createDate: k.CreateDate ? k.CreateDate.toISOString() : null,
    };
  }

  async getAccessKeyLastUsed(account: string, accessKeyId: string) {
    const cmd = new GetAccessKeyLastUsedCommand({ AccessKeyId: exactId('AccessKeyId', accessKeyId) });
    const out = await this.io.send(
      account,
      'GetAccessKeyLastUsed',
      `of key ${accessKeyId}`,
      (iam) => iam.send(cmd),
      'null',
    );
    if (!out) return null;
    const used = out.AccessKeyLastUsed;
    const service = used?.ServiceName && used.ServiceName !== 'N/A' ? used.ServiceName : null;
    return { lastUsedDate: used?.LastUsedDate ? used.LastUsedDate.toISOString() : null, service };
  }

  async callerArn(account: string, accessKeyId: string, secret: Secret): Promise<string | null> {
    if (!this.stsWithKey) throw new CwError(ErrorCodes.CONFIG, 'no STS client factory: rotation cannot verify a key');
    const sts = this.stsWithKey({ accessKeyId: exactId('AccessKeyId', accessKeyId), secretAccessKey: secret.reveal() });
    this.io.calls.total++;
    this.io.calls.byOperation['sts:GetCallerIdentity'] = (this.io.calls.byOperation['sts:GetCallerIdentity'] ?? 0) + 1;
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      this.io.calls.attempts += out.$metadata.attempts ?? 1;
      return out.Arn ?? null;
    } catch (err) {
      this.io.calls.attempts += (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if (KEY_NOT_ACCEPTED.has(awsErrorName(err))) return null;
      // The error never carries the request (it was signed with the secret): name and message only.
      throw toCwError(err, `account ${account}: sts:GetCallerIdentity with key ${accessKeyId}`);
    } finally {
      sts.destroy();
    }
  }

  async updateAccessKey(account: string, userName: string, accessKeyId: string, status: 'Active' | 'Inactive') {
    const cmd = new UpdateAccessKeyCommand({
      UserName: exactId('UserName', userName),
      AccessKeyId: exactId('AccessKeyId', accessKeyId),
      Status: status,
    });
    await this.io.send(account, 'UpdateAccessKey', `key ${accessKeyId} of user ${userName}`, (iam) => iam.send(cmd));
  }

  async deleteAccessKey(account: string, userName: string, accessKeyId: string) {
    const cmd = new DeleteAccessKeyCommand({
      UserName: exactId('UserName', userName),
      AccessKeyId: exactId('AccessKeyId', accessKeyId),
    });
    await this.io.send(account, 'DeleteAccessKey', `key ${accessKeyId} of user ${userName}`, (iam) => iam.send(cmd));
  }

  async getLoginProfile(account: string, userName: string) {
    const cmd = new GetLoginProfileCommand({ UserName: exactId('UserName', userName) });
    const out = await this.io.send(account, 'GetLoginProfile', `of user ${userName}`, (iam) => iam.send(cmd), 'null');
    if (!out?.LoginProfile) return null;
    return { createDate: out.LoginProfile.CreateDate ? out.LoginProfile.CreateDate.toISOString() : null };
  }

  async deleteLoginProfile(account: string, userName: string) {
    const cmd = new DeleteLoginProfileCommand({ UserName: exactId('UserName', userName) });
    await this.io.send(account, 'DeleteLoginProfile', `of user ${userName}`, (iam) => iam.send(cmd));
  }
}
