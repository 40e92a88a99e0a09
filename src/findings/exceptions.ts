/** Exceptions: owner, reason, expiry and a selector. Expired ones stop applying (and that is audited). */

import type { PolicyHit } from '../policy/evaluate.js';
import type { PolicyException } from '../policy/model.js';
import { anyGlob } from '../registry/glob.js';

export function exceptionMatches(e: PolicyException, hit: Pick<PolicyHit, 'policy' | 'credential'>): boolean {
  const s = e.selector;
  if (s.credentials && !anyGlob(s.credentials, hit.credential.id)) return false;
  if (s.agents && !anyGlob(s.agents, hit.credential.agentId)) return false;
  if (s.policies && !anyGlob(s.policies, hit.policy.name)) return false;
  if (s.rules && !hit.policy.rules.some((r) => s.rules!.includes(r.type))) return false;
  return true;
}

export const isActive = (e: PolicyException, now: Date): boolean => new Date(e.expires).getTime() > now.getTime();

export function activeExceptionFor(
  exceptions: readonly PolicyException[],
  hit: Pick<PolicyHit, 'policy' | 'credential'>,
  now: Date,
): PolicyException | null {
  return exceptions.find((e) => isActive(e, now) && exceptionMatches(e, hit)) ?? null;
}
