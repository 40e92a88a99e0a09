/**
 * What the silence and exception write routes share: the create body's common fields, the expire
 * body, and the `:id` parameter. The stores validate everything in depth (the same schemas as the
 * YAML ones) and say which field is wrong; errors.ts turns that into `body.<field>`.
 */
import { authResponses, errorBody, openObject } from '../route.js';

export const ruleFields = {
  owner: { type: 'string', minLength: 1, maxLength: 200, description: 'who answers for it' },
  reason: { type: 'string', minLength: 1, maxLength: 1000 },
  expires: {
    type: 'string',
    minLength: 10,
    maxLength: 40,
    description: 'ISO 8601 date or date-time, in the future and at most 90 days ahead',
  },
} as const;

const globs = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 300 }, maxItems: 100 } as const;

export const globsOf = (names: readonly string[]) => ({
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: Object.fromEntries(names.map((n) => [n, globs])),
});

/** One silence or exception as the list routes answer it. */
export const ruleItem = (noun: string) =>
  openObject(`one ${noun}`, {
    id: { type: 'string' },
    source: { type: 'string', enum: ['config', 'api'] },
    active: { type: 'boolean' },
    owner: { type: 'string' },
    reason: { type: 'string' },
    expires: { type: 'string' },
  });

export const ruleParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const expireBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } },
} as const;

export const ruleResponses = (noun: string) =>
  ({
    200: openObject(`the ${noun} as stored`, { id: { type: 'string' }, expires: { type: 'string' } }),
    201: openObject(`the ${noun} as stored`, { id: { type: 'string' }, expires: { type: 'string' } }),
    404: { description: `no such ${noun}`, ...errorBody },
    409: { description: `the ${noun} is in a config file, or already ended`, ...errorBody },
    ...authResponses,
  }) as const;
