/**
 * Closing workers right after Redis came back. ioredis 5.11 never ends a client that is
 * disconnected while it waits to reconnect (status `reconnecting`: no 'end' event, status stuck;
 * redis/ioredis#1247, fix proposed in #2169), and BullMQ's Worker.close() and disconnect() wait for
 * that 'end'. So a worker closed within a second or so of a Redis restart (BullMQ's own retry
 * delay, growing to 20 s after a long outage) hangs for good, and its process never exits.
 *
 * untilSettled() waits, bounded, until no connection of the given workers is between connections;
 * closeSettled() does that first, then closes them with the runtime's deadline, and gives up
 * (with a warning) if BullMQ still hangs, rather than hang the caller.
 */
import type { Worker } from 'bullmq';
import type { Logger } from '../logger.js';

const BETWEEN = new Set(['connecting', 'connect', 'reconnecting']);

async function statuses(w: Worker): Promise<string[]> {
  const b = w.getBackend();
  const clients = await Promise.all(
    [b.client, b.blockingClient ?? Promise.resolve(undefined)].map((c) => c.catch(() => undefined)),
  );
  return clients.flatMap((c) => (c ? [String((c as { status?: unknown }).status)] : []));
}

/** Resolves true once no connection of `workers` is (re)connecting, false after `maxMs`. */
export async function untilSettled(workers: readonly Worker[], maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const all = (await Promise.all(workers.map(statuses))).flat();
    if (!all.some((s) => BETWEEN.has(s))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Close in-process workers without hanging on a connection that is reconnecting. */
export async function closeSettled(
  workers: { workers: readonly Worker[]; close(deadlineMs: number): Promise<unknown> },
  deadlineMs: number,
  log: Logger,
): Promise<void> {
  await untilSettled(workers.workers, Math.min(deadlineMs, 10_000));
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((r) => {
    timer = setTimeout(() => r('gave up'), deadlineMs + 3000);
  });
  const closed = workers.close(deadlineMs).then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  const outcome = await Promise.race([closed, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'gave up')
    log.warn(
      { deadlineMs },
      'in-process workers did not close (a Redis connection is still reconnecting); leaving them behind',
    );
}
