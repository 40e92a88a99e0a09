/**
 * Helpers shared by the AWS action types: the exact target of a plan, built from the Credential
 * detection recorded, and read back from a plan (pure), plus the one key read both key actions use.
 *
 * Contract: a target names exactly one thing by the ids the IAM calls take (user name and access
 * key id; role name) plus the immutable ids (UserId / RoleId) that tell a re-created principal
 * from the one detection saw. Every id is checked against the credential's own id
 * (`aws/<account>/access-key/<AccessKeyId>`, …): a record whose attributes disagree with its id,
 * or that lacks an id the action needs, yields `{ skip: reason }`, never a guess. This is the
 * lesson of Cloud Custodian's remove-keys (#842, #5583, #6732): a user is never a stand-in for
 * one of its keys.
 */
import { CwError, ErrorCodes } from '../errors.js';
import type { ActionPlan, ActionTarget, TargetState } from '../model/action.js';
import type { Credential, CredentialKind } from '../model/credential.js';
import { awsAccessKeyId, awsConsolePasswordId, awsRoleId } from '../model/ids.js';
import type { PlanOutcome } from './action-type.js';
import type { ActionPorts, IamPrincipal } from './ports.js';

const ACCOUNT = /^\d{12}$/;
/** IAM access key ids: AKIA… (long-term) or ASIA… (temporary), upper-case letters and digits. */
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** IAM user and role names: letters, digits and +=,.@_- (AWS allows at most 64 characters). */
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;

/** The attribute as a non-empty string, or null. */
function attr(cred: Credential, name: string): string | null {
  const v = cred.attributes[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

function target(cred: Credential, identity: Record<string, string>): { target: ActionTarget } {
  return {
    target: {
      credentialId: cred.id,
      kind: cred.kind,
      sourceType: cred.sourceType,
      source: cred.source,
      principal: cred.principal,
      identity,
    },
  };
}

/** The checks every AWS target shares: an AWS credential, of a kind the action acts on, in an account. */
function base(cred: Credential, kinds: readonly CredentialKind[]): string | null {
  if (cred.sourceType !== 'aws') return `${cred.id} is not an AWS credential`;
  if (!kinds.includes(cred.kind)) return `${cred.id} is a ${cred.kind}; this action acts on ${kinds.join(', ')}`;
  if (!ACCOUNT.test(cred.source)) return `${cred.id}: source "${cred.source}" is not an AWS account id`;
  return null;
}

/** One access key: `{ account, userName, userId, accessKeyId }`. */
export function accessKeyTarget(cred: Credential): PlanOutcome {
  const bad = base(cred, ['aws-access-key']);
  if (bad) return { skip: bad };
  const accessKeyId = attr(cred, 'accessKeyId');
  const userName = attr(cred, 'userName');
  const userId = attr(cred, 'userId');
  if (!accessKeyId || !ACCESS_KEY_ID.test(accessKeyId))
    return { skip: `${cred.id}: the record has no valid accessKeyId; refusing to guess which key` };
  if (cred.id !== awsAccessKeyId(cred.source, accessKeyId))
    return { skip: `${cred.id}: its accessKeyId attribute (${accessKeyId}) does not match its id` };
  if (!userName || !IAM_NAME.test(userName))
    return { skip: `${cred.id}: the record names no valid key owner (userName)` };
  if (!userId) return { skip: `${cred.id}: the record has no UserId to tell this user from a re-created one` };
  return target(cred, { account: cred.source, userName, userId, accessKeyId });
}

/**
 * The principal behind a credential: the user of an access key or console password
 * (`{ account, userName, userId }`), or the role (`{ account, roleName, roleId }`).
 */
export function principalTarget(cred: Credential, kinds: readonly CredentialKind[]): PlanOutcome {
  const bad = base(cred, kinds);
  if (bad) return { skip: bad };
  if (cred.kind === 'aws-role') {
    const roleName = attr(cred, 'roleName');
    const roleId = attr(cred, 'roleId');
    if (!roleName || !IAM_NAME.test(roleName)) return { skip: `${cred.id}: the record names no valid role (roleName)` };
    if (cred.id !== awsRoleId(cred.source, roleName))
      return { skip: `${cred.id}: its roleName attribute (${roleName}) does not match its id` };
    if (!roleId) return { skip: `${cred.id}: the record has no RoleId to tell this role from a re-created one` };
    return target(cred, { account: cred.source, roleName, roleId });
  }
  if (cred.kind === 'aws-access-key') {
    const key = accessKeyTarget(cred);
    if ('skip' in key) return key;
    const { account, userName, userId } = key.target.identity as Record<string, string>;
    return target(cred, { account: account!, userName: userName!, userId: userId! });
  }
  if (cred.kind === 'aws-console-password') {
    const userName = attr(cred, 'userName');
    const userId = attr(cred, 'userId');
    if (!userName || !IAM_NAME.test(userName)) return { skip: `${cred.id}: the record names no valid user (userName)` };
    if (cred.id !== awsConsolePasswordId(cred.source, userName))
      return { skip: `${cred.id}: its userName attribute (${userName}) does not match its id` };
    if (!userId) return { skip: `${cred.id}: the record has no UserId to tell this user from a re-created one` };
    return target(cred, { account: cred.source, userName, userId });
  }
  return { skip: `${cred.id}: a ${cred.kind} has no IAM principal this action can act on` };
}

function need(plan: ActionPlan, name: string): string {
  const v = plan.target.identity[name];
  if (typeof v !== 'string' || v === '')
    throw new CwError(
      ErrorCodes.INTERNAL,
      `plan ${plan.id} (${plan.action}): target ${plan.target.credentialId} has no ${name}`,
    );
  return v;
}

/** The account a plan acts in. */
export const accountOf = (plan: ActionPlan): string => need(plan, 'account');

/** The exact key a plan acts on. */
export function keyOf(plan: ActionPlan): { account: string; userName: string; accessKeyId: string } {
  return { account: accountOf(plan), userName: need(plan, 'userName'), accessKeyId: need(plan, 'accessKeyId') };
}

/** The user or role a plan acts on (a role when the target names one, else the user). */
export function principalOf(plan: ActionPlan): IamPrincipal {
  if (plan.target.identity.roleName !== undefined) return { type: 'role', name: need(plan, 'roleName') };
  return { type: 'user', name: need(plan, 'userName') };
}

/** "user svc-bot" / "role agent-role", for reasons and messages. */
export const describePrincipal = (p: IamPrincipal): string => `${p.type} ${p.name}`;

/** The key's state, as deactivate-key and delete-key read it: `{ status, createDate }`, or absent. */
export async function inspectKey(plan: ActionPlan, ports: ActionPorts): Promise<TargetState> {
  const { account, userName, accessKeyId } = keyOf(plan);
  const k = await ports.aws.getAccessKey(account, userName, accessKeyId);
  return k ? { exists: true, facts: { status: k.status, createDate: k.createDate } } : { exists: false, facts: {} };
}

/** Why a key that is not there is not acted on. */
export function missingKey(plan: ActionPlan): string {
  const { account, userName, accessKeyId } = keyOf(plan);
  return `access key ${accessKeyId} is not among the keys of user ${userName} in account ${account} (deleted, or it belongs to another user)`;
}

/** The key's status as inspect recorded it, or null. */
export function keyStatus(facts: Record<string, unknown>): 'Active' | 'Inactive' | null {
  const s = facts.status;
  return s === 'Active' || s === 'Inactive' ? s : null;
}

/** IAM returns policy documents URL-encoded (moto too); a caller may also hand back raw JSON. */
export function decodePolicyText(doc: string): string {
  const text = doc.trim();
  if (text.startsWith('{')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    throw new CwError(ErrorCodes.AWS, 'IAM returned a policy document that is neither JSON nor URL-encoded JSON');
  }
}

/** Rejects what is not one exact id: empty, or a wildcard that IAM would never resolve but a reader might. */
export function exactId(what: string, value: string): string {
  if (value === '' || /[*?\s]/.test(value))
    throw new CwError(ErrorCodes.INTERNAL, `refusing an IAM call with ${what} "${value}": not one exact id`);
  return value;
}

/** Structural equality of parsed JSON values (key order ignored; arrays in order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const ob = b as Record<string, unknown>;
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(ob, k) && jsonEqual((a as Record<string, unknown>)[k], ob[k]))
  );
}

/** JSON text parsed, or undefined when it is not JSON. */
export function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
