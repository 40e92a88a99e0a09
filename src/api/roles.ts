/**
 * API roles and what each may do. One table, read by every route: a route names the permission
 * it needs, never a role.
 *
 * - viewer: reads posture (inventory, credentials, findings, agents, scans, actions, drills).
 * - auditor: viewer's reads, plus the audit log and evidence.
 * - oncall: viewer's reads, plus approving and denying actions, silences, pausing remediation.
 * - admin: everything, including exceptions, rollback and starting scans.
 */
export const ROLES = ['viewer', 'auditor', 'oncall', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'posture:read',
  'audit:read',
  'evidence:read',
  'actions:decide',
  'silences:write',
  'remediation:pause',
  'exceptions:write',
  'actions:rollback',
  'scans:start',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['posture:read'],
  auditor: ['posture:read', 'audit:read', 'evidence:read'],
  oncall: ['posture:read', 'actions:decide', 'silences:write', 'remediation:pause'],
  admin: PERMISSIONS,
};

export function can(roles: readonly Role[], permission: Permission): boolean {
  return roles.some((r) => GRANTS[r]?.includes(permission));
}

/** Roles that may approve or deny a held action (the four-eyes approvers). */
export function mayApprove(roles: readonly Role[]): boolean {
  return can(roles, 'actions:decide');
}
