/**
 * What one API route is: its method and path, the permission it needs (never a role; see
 * roles.ts), the JSON Schemas its input is validated against (and the OpenAPI document is
 * generated from), and a handler that gets the validated input and the caller.
 *
 * Routes live one file each under routes/ and are listed in routes/index.ts. A handler returns
 * the response body (serialized as JSON with status 200, or `status` when it sets one) or throws
 * a CwError, which errors.ts maps to a status and an `{ error: { code, message, field? } }` body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { App } from '../main.js';
import type { Queues } from '../queue/runtime.js';
import type { ApiMetrics } from './metrics.js';
import type { Permission } from './roles.js';
import type { Principal } from './tokens.js';
import type { ApiViews } from './views.js';

/** Who is calling: an API token's subject, or an OIDC token's. */
export type Caller = Principal;

/** The audit actor for a caller: the same `user:<name>` the CLI's `--as NAME` records, so a person is one approver however they reach credwarden. */
export const actorOf = (c: Caller): string => `user:${c.subject}`;

/** What routes work with: the composition root's App, this process's queue producers, its metrics. */
export interface ApiDeps {
  app: App;
  queues: Queues;
  metrics: ApiMetrics;
  /** Findings, inventory and actions as the read routes serve them (views.ts). */
  views: ApiViews;
}

export interface RouteCall {
  req: FastifyRequest;
  reply: FastifyReply;
  deps: ApiDeps;
  /** Null only on public routes. */
  caller: Caller | null;
  query: Record<string, unknown>;
  params: Record<string, string>;
  body: unknown;
}

export interface RouteSchema extends FastifySchema {
  operationId: string;
  summary: string;
  tags: string[];
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  /** The permission a caller needs; `public` routes take no token (health, the OpenAPI document, Slack's signed callbacks). */
  permission: Permission | 'public';
  schema: RouteSchema;
  handle(call: RouteCall): Promise<unknown>;
  /**
   * Called with the route's own fastify scope before the route is added (server.ts), for what
   * applies to this route alone: Slack's form-encoded body kept raw for its signature.
   */
  setup?(scope: FastifyInstance): void | Promise<void>;
}

export const defineRoute = (r: Route): Route => r;

/** The `{ error }` body every failure answers with. */
export const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
      },
    },
  },
} as const;

/** Responses every authenticated route may give besides its own. */
export const authResponses = {
  400: { description: 'invalid input (the body names the field)', ...errorBody },
  401: { description: 'no valid bearer token', ...errorBody },
  403: { description: 'the token lacks the permission', ...errorBody },
  429: { description: 'rate limited', ...errorBody },
} as const;

/** An object whose properties are documented but not exhaustive (records grow; the serializer must not drop fields). */
export const openObject = (description: string, properties: Record<string, unknown> = {}) => ({
  type: 'object',
  description,
  additionalProperties: true,
  properties,
});

/** A list response: `{ items, total }`, plus `next` when more pages follow. */
export const listOf = (description: string, item: Record<string, unknown>) => ({
  type: 'object',
  required: ['items', 'total'],
  properties: {
    items: { type: 'array', items: item },
    total: { type: 'integer', description: 'matches before paging' },
    next: { type: ['integer', 'null'], description: 'the offset of the next page, null on the last' },
  },
  description,
});

/** `limit` and `offset` query parameters every list route takes. */
export const paging = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  offset: { type: 'integer', minimum: 0, default: 0 },
} as const;

/** One page of `all` and the `{ items, total, next }` body. */
export function page<T>(all: readonly T[], query: Record<string, unknown>) {
  const limit = (query.limit as number | undefined) ?? 100;
  const offset = (query.offset as number | undefined) ?? 0;
  const items = all.slice(offset, offset + limit);
  return { items, total: all.length, next: offset + limit < all.length ? offset + limit : null };
}
