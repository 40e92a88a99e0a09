/**
 * Who a credential's principal is (a user or role ARN, parsed), and the one principal-dependent
 * fact several detectors share: can it remove or replace its own permissions boundary? A boundary
 * the principal can lift holds nothing back, so the admin detectors treat it as absent.
 */
import type { AwsPermissionSet, ResourceAccess } from './aws-effective.js';
import type { PolicyVariables } from './iam-glob.js';

export interface Principal {
  arn: string;
  account: string;
  partition: string;
  type: 'user' | 'role';
  name: string;
}

const ARN = /^arn:([^:]+):iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/;

export function parsePrincipal(arn: string): Principal | null {
  const m = ARN.exec(arn);
  if (!m) return null;
  return { arn, partition: m[1]!, account: m[2]!, type: m[3] as 'user' | 'role', name: m[4]! };
}

/** Policy variables a request by this principal resolves (`aws:username` for users). */
export const principalVariables = (p: Principal): PolicyVariables =>
  p.type === 'user' ? { 'aws:username': p.name } : {};

export interface BoundaryEscape {
  action: string;
  access: ResourceAccess;
}

/**
 * The first of iam:Delete{User,Role}PermissionsBoundary / iam:Put{User,Role}PermissionsBoundary
 * the effective set allows on the principal's own ARN, or undefined. Denies and the boundary itself
 * apply (allowsOn): a boundary that blocks these actions cannot be escaped this way.
 */
export function boundaryEscape(set: AwsPermissionSet, p: Principal): BoundaryEscape | undefined {
  const T = p.type === 'user' ? 'User' : 'Role';
  for (const action of [`iam:Delete${T}PermissionsBoundary`, `iam:Put${T}PermissionsBoundary`]) {
    const access = set.allowsOn(action, p.arn, principalVariables(p));
    if (access) return { action, access };
  }
  return undefined;
}
