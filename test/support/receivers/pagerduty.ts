/**
 * A local PagerDuty Events API v2 endpoint (POST /v2/enqueue and /v2/change/enqueue).
 *
 * The schema below is written from PagerDuty's own documentation (PagerDuty/developer-docs,
 * docs/events-API-v2/01-Overview.md, 02-Trigger-Events.md, 03-Change-Events.md), NOT from
 * credwarden's builder, so a builder bug shows up as a 400 here:
 * - alert events: `routing_key` 32 characters; `event_action` trigger|acknowledge|resolve;
 *   `dedup_key` ≤ 255 characters (needed to acknowledge or resolve an alert); for trigger a
 *   `payload` with `summary` (non-empty, ≤ 1024), `source` (non-empty), `severity`
 *   critical|error|warning|info, optional ISO 8601 `timestamp`, optional string `component`,
 *   `group`, `class`, optional object `custom_details`; optional `links` [{ href (required), text }]
 *   and `images` [{ src (required), href, alt }];
 * - change events: `routing_key`; `payload.summary` (non-empty, ≤ 1024); optional source,
 *   timestamp, custom_details, links;
 * - the whole body ≤ 512 KB, JSON, sent as application/json.
 * Valid: 202 `{ status: 'success', message: 'Event processed', dedup_key }` (change events have no
 * dedup_key). Invalid: 400 `{ status: 'invalid event', message: 'Event object is invalid', errors }`,
 * PagerDuty's error shape.
 */
import { randomUUID } from 'node:crypto';
import { type Received, type Receiver, startReceiver } from './server.js';

export interface PdReceived extends Received {
  valid: boolean;
  errors: string[];
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const MAX_BYTES = 512 * 1024;

export function startPagerDutyReceiver(): Promise<Receiver<PdReceived>> {
  return startReceiver<PdReceived>({
    inspect: (base) => {
      const errors = validate(base.path, base.headers['content-type'], base.rawBody, base.json);
      return { ...base, valid: errors.length === 0, errors };
    },
    natural: (req) =>
      req.valid
        ? { status: 202, body: success(req) }
        : { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: req.errors } },
    bodyFor: (status, req) =>
      status >= 200 && status < 300
        ? success(req)
        : { status: status === 429 ? 'throttle event' : 'error', message: `scripted ${status}` },
  });
}

function success(req: PdReceived): object {
  const event = req.json as { dedup_key?: unknown };
  const dedup = req.path.startsWith('/v2/change') ? {} : { dedup_key: event.dedup_key ?? randomUUID() };
  return { status: 'success', message: 'Event processed', ...dedup };
}

function validate(path: string, contentType: string | undefined, raw: string, json: unknown): string[] {
  const errors: string[] = [];
  if (Buffer.byteLength(raw) > MAX_BYTES) errors.push('Event payload is larger than 512 KB');
  if (!/^application\/json\b/.test(contentType ?? '')) errors.push('Content-Type must be application/json');
  if (!isObject(json)) return [...errors, 'Event body must be a JSON object'];
  const e = json;
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32) {
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  if (path.startsWith('/v2/change/enqueue')) {
    checkPayload(e.payload, errors, { change: true });
    checkLinks(e.links, errors);
    return errors;
  }
  if (!path.startsWith('/v2/enqueue')) return [...errors, `unknown endpoint ${path}`];
  if (typeof e.event_action !== 'string' || !ACTIONS.includes(e.event_action)) {
    errors.push("'event_action' must be one of trigger, acknowledge, resolve");
  }
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) {
    errors.push("'dedup_key' must be a string of at most 255 characters");
  }
  if (e.event_action !== 'trigger' && typeof e.dedup_key !== 'string') {
    errors.push("'dedup_key' is required to acknowledge or resolve");
  }
  if (e.event_action === 'trigger') checkPayload(e.payload, errors, { change: false });
  checkLinks(e.links, errors);
  if (e.images !== undefined) {
    if (!Array.isArray(e.images)) errors.push("'images' must be an array");
    else if (!e.images.every((i) => isObject(i) && typeof i.src === 'string')) errors.push("each image needs 'src'");
  }
  return errors;
}

function checkPayload(p: unknown, errors: string[], { change }: { change: boolean }): void {
  if (!isObject(p)) {
    errors.push("'payload' is required");
    return;
  }
  if (typeof p.summary !== 'string' || p.summary.length === 0) errors.push("'payload.summary' is required");
  else if (p.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
  if (!change) {
    if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is required");
    if (typeof p.severity !== 'string' || !SEVERITIES.includes(p.severity)) {
      errors.push("'payload.severity' must be one of critical, error, warning, info");
    }
  } else if (p.source !== undefined && typeof p.source !== 'string') {
    errors.push("'payload.source' must be a string");
  }
  if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || !ISO_8601.test(p.timestamp))) {
    errors.push("'payload.timestamp' must be an ISO 8601 timestamp");
  }
  for (const k of ['component', 'group', 'class']) {
    if (p[k] !== undefined && typeof p[k] !== 'string') errors.push(`'payload.${k}' must be a string`);
  }
  if (p.custom_details !== undefined && !isObject(p.custom_details)) {
    errors.push("'payload.custom_details' must be an object");
  }
}

function checkLinks(links: unknown, errors: string[]): void {
  if (links === undefined) return;
  if (!Array.isArray(links)) {
    errors.push("'links' must be an array");
    return;
  }
  for (const l of links) {
    if (!isObject(l) || typeof l.href !== 'string' || l.href === '') errors.push("each link needs 'href'");
    else if (l.text !== undefined && typeof l.text !== 'string') errors.push("a link's 'text' must be a string");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The brief's name for it. */
export const start = startPagerDutyReceiver;
