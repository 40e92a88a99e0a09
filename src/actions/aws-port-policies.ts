/**
 * IamPolicyWrites: the policy half of IamWritePort (aws-port.ts), over IamCalls (aws-port-calls.ts):
 * inline policies (get, put, delete) and attached managed policies (list, attach, detach) of one
 * user or role, each sent as the user form or the role form of the IAM operation.
 */
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { IamCalls } from './aws-port-calls.js';
import { decodePolicyText, exactId } from './aws-support.js';
import type { IamPrincipal } from './ports.js';

export class IamPolicyWrites {
  constructor(private readonly io: IamCalls) {}

  async getInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    const PolicyName = exactId('PolicyName', policyName);
    const out = await this.io.onPrincipal(
      account,
      principal,
      ['GetUserPolicy', 'GetRolePolicy'],
      `${policyName} of`,
      (iam, UserName) => iam.send(new GetUserPolicyCommand({ UserName, PolicyName })),
      (iam, RoleName) => iam.send(new GetRolePolicyCommand({ RoleName, PolicyName })),
      'null',
    );
    return out?.PolicyDocument ? decodePolicyText(out.PolicyDocument) : null;
  }

  async putInlinePolicy(account: string, principal: IamPrincipal, policyName: string, document: string) {
    const PolicyName = exactId('PolicyName', policyName);
    await this.io.onPrincipal(
      account,
      principal,
      ['PutUserPolicy', 'PutRolePolicy'],
      `${policyName} on`,
      (iam, UserName) => iam.send(new PutUserPolicyCommand({ UserName, PolicyName, PolicyDocument: document })),
      (iam, RoleName) => iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: document })),
    );
  }

  async deleteInlinePolicy(account: string, principal: IamPrincipal, policyName: string) {
    const PolicyName = exactId('PolicyName', policyName);
    await this.io.onPrincipal(
      account,
      principal,
      ['DeleteUserPolicy', 'DeleteRolePolicy'],
      `${policyName} of`,
      (iam, UserName) => iam.send(new DeleteUserPolicyCommand({ UserName, PolicyName })),
      (iam, RoleName) => iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })),
    );
  }

  async listAttachedPolicies(account: string, principal: IamPrincipal) {
    const isUser = principal.type === 'user';
    const name = exactId(isUser ? 'UserName' : 'RoleName', principal.name);
    const list = await this.io.pages(
      account,
      isUser ? 'ListAttachedUserPolicies' : 'ListAttachedRolePolicies',
      `of ${principal.type} ${name}`,
      (iam, Marker) =>
        isUser
          ? iam.send(new ListAttachedUserPoliciesCommand({ UserName: name, ...(Marker ? { Marker } : {}) }))
          : iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, ...(Marker ? { Marker } : {}) })),
      (p) => p.AttachedPolicies,
    );
    return list === null ? null : list.flatMap((a) => (a.PolicyArn ? [a.PolicyArn] : []));
  }

  async attachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    const PolicyArn = exactId('PolicyArn', policyArn);
    await this.io.onPrincipal(
      account,
      principal,
      ['AttachUserPolicy', 'AttachRolePolicy'],
      `${policyArn} to`,
      (iam, UserName) => iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn })),
      (iam, RoleName) => iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })),
    );
  }

  async detachPolicy(account: string, principal: IamPrincipal, policyArn: string) {
    const PolicyArn = exactId('PolicyArn', policyArn);
    await this.io.onPrincipal(
      account,
      principal,
      ['DetachUserPolicy', 'DetachRolePolicy'],
      `${policyArn} from`,
      (iam, UserName) => iam.send(new DetachUserPolicyCommand({ UserName, PolicyArn })),
      (iam, RoleName) => iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })),
    );
  }
}
