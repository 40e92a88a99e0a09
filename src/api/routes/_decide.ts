/**
 * What the approve, deny and rollback routes share: the `:id` parameter, the optional reason, and
 * the record they answer with (the same JSON as `credwarden actions show --json`).
 */

import type { ActionRecord } from '../../model/action.js';
import { actionJson } from '../../remediation/action-json.js';
import { authResponses, errorBody, openObject } from '../route.js';

export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 200, description: 'the action (plan) id' } },
} as const;

export const reasonBody = (required: boolean) => ({
  type: 'object',
  additionalProperties: false,
  ...(required ? { required: ['reason'] } : {}),
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500, description: 'recorded in the audit event' } },
});

export const actionResponses = {
  200: openObject('the action record after the decision (as `actions show --json`)', {
    id: { type: 'string' },
    state: { type: 'string' },
  }),
  404: { description: 'no such action', ...errorBody },
  409: { description: 'refused by a guardrail (the message says which)', ...errorBody },
  ...authResponses,
} as const;

export const answer = (r: ActionRecord) => actionJson(r);

export const reasonOf = (body: unknown): string | undefined =>
  (body as { reason?: string } | undefined)?.reason?.trim() || undefined;
