/**
 * GET /readyz: 200 when this process can do its work, 503 with each failed check otherwise.
 * - redis: PING answers;
 * - queues: every queue producer reads its counts over its own connection (the scan, discover, inventory, evaluate and
 *   remediate and decisions queues and each sink's delivery queue);
 * - audit: the chain head is readable in Redis and the JSONL copy's file is writable (nothing is
 *   appended: a probe every few seconds must not grow the audit log).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ApiDeps } from '../route.js';
import { defineRoute } from '../route.js';

const TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function writable(file: string): Promise<void> {
  try {
    await access(file, constants.W_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await access(dirname(file), constants.W_OK);
  }
}

async function checks({ app, queues }: ApiDeps): Promise<Record<string, string>> {
  const queueList = [
    queues.scan,
    queues.discover,
    queues.inventory,
    queues.evaluate,
    queues.remediate,
    ...queues.alerts.values(),
  ];
  const run: Record<string, () => Promise<unknown>> = {
    redis: () => app.redis.ping(),
    queues: () => Promise.all(queueList.map((q) => q.getJobCounts('waiting'))),
    audit: async () => {
      await app.audit.head();
      await writable(app.config.audit.file);
    },
  };
  const out: Record<string, string> = {};
  await Promise.all(
    Object.entries(run).map(async ([name, check]) => {
      try {
        await within(check(), name);
        out[name] = 'ok';
      } catch (err) {
        out[name] = `failed: ${(err as Error).message}`;
      }
    }),
  );
  return out;
}

const result = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not-ready'] },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export default defineRoute({
  method: 'GET',
  url: '/readyz',
  permission: 'public',
  schema: {
    operationId: 'readyz',
    summary: 'Redis, the queues and the audit log are usable',
    tags: ['health'],
    response: { 200: result, 503: result },
  },
  handle: async ({ deps, reply }) => {
    const c = await checks(deps);
    const ready = Object.values(c).every((v) => v === 'ok');
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not-ready', checks: c };
  },
});
