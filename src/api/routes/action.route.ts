/**
 * GET /api/v1/actions/{id}: one action in full: its plan and the guardrails' decision with
 * reasons, approvals (and a person's denial), a rollback request and its approvals, the pre-state
 * a rollback restores, a rotation's steps, the result and the history. 404 when unknown.
 */
import { actionDetailJson } from '../../remediation/action-json.js';
import { authResponses, defineRoute, openObject } from '../route.js';
import { actionSchema, idParams, notFound, notFoundResponse, query } from '../schemas.js';

export default defineRoute({
  method: 'GET',
  url: '/api/v1/actions/:id',
  permission: 'posture:read',
  schema: {
    operationId: 'getAction',
    summary: 'One remediation action with its plan, approvals, rotation steps and history',
    tags: ['actions'],
    params: idParams('id', 'the action (plan) id'),
    querystring: query(),
    response: {
      200: {
        ...actionSchema,
        properties: {
          ...actionSchema.properties,
          plan: openObject('what remediation would do, and why'),
          history: { type: 'array', items: openObject('one state change') },
          approvals: { type: 'array', items: openObject('one approval') },
          rollbackRequest: { type: ['object', 'null'], additionalProperties: true },
          rollbackApprovals: { type: 'array', items: openObject('one approval of the rollback') },
          rotation: openObject("a rotation's progress: step, waiting, steps done"),
        },
      },
      404: notFoundResponse('action'),
      ...authResponses,
    },
  },
  handle: async ({ deps: { app }, params }) => {
    const r = await app.remediation.show(params.id!);
    if (!r) throw notFound(`no action ${params.id}`);
    return actionDetailJson(r);
  },
});
