/**
 * A local Slack incoming webhook. Records each JSON message and checks the limits Slack documents
 * for Block Kit messages: a top-level `text` (the notification fallback), at most 50 blocks, known
 * block types, header plain_text ≤ 150, section text ≤ 3000, context ≤ 10 elements.
 *
 * Answers like Slack: 200 `ok` when valid; 400 `invalid_blocks` (or `no_text`, `invalid_payload`)
 * otherwise. Scripted statuses answer with a short Slack-style error string.
 */
import { type Received, type Receiver, startReceiver } from './server.js';

export interface SlackReceived extends Received {
  valid: boolean;
  errors: string[];
}

const BLOCK_TYPES = ['header', 'section', 'context', 'divider', 'actions', 'image', 'rich_text'];

export function startSlackReceiver(): Promise<Receiver<SlackReceived>> {
  return startReceiver<SlackReceived>({
    inspect: (base) => {
      const errors = validate(base.json);
      return { ...base, valid: errors.length === 0, errors };
    },
    natural: (req) => (req.valid ? { status: 200, body: 'ok' } : { status: 400, body: slackError(req.errors) }),
    bodyFor: (status) => (status === 200 ? 'ok' : status === 429 ? 'rate_limited' : 'invalid_payload'),
  });
}

/** The brief's name for it. */
export const start = startSlackReceiver;

function slackError(errors: string[]): string {
  if (errors.includes('invalid_payload')) return 'invalid_payload';
  if (errors.includes('no_text')) return 'no_text';
  return 'invalid_blocks';
}

function validate(json: unknown): string[] {
  if (!isObject(json)) return ['invalid_payload'];
  const errors: string[] = [];
  if (typeof json.text !== 'string' || json.text.trim() === '') errors.push('no_text');
  if (json.blocks === undefined) return errors;
  if (!Array.isArray(json.blocks)) return [...errors, 'blocks must be an array'];
  if (json.blocks.length > 50) errors.push(`${json.blocks.length} blocks (at most 50)`);
  for (const [i, b] of json.blocks.entries()) {
    if (!isObject(b) || typeof b.type !== 'string' || !BLOCK_TYPES.includes(b.type)) {
      errors.push(`block ${i}: unknown type`);
      continue;
    }
    const text = isObject(b.text) ? b.text : undefined;
    if (b.type === 'header' && (text?.type !== 'plain_text' || !lengthIn(text.text, 1, 150))) {
      errors.push(`block ${i}: header needs plain_text of 1–150 characters`);
    }
    if (b.type === 'section' && (!text || !lengthIn(text.text, 1, 3000))) {
      errors.push(`block ${i}: section text must be 1–3000 characters`);
    }
    if (b.type === 'context' && (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10)) {
      errors.push(`block ${i}: context needs 1–10 elements`);
    }
  }
  return errors;
}

function lengthIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
