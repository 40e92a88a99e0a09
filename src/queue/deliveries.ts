/** Queues one delivery job per planned notification, on its sink's own queue. */
import type { Queue } from 'bullmq';
import type { Notification } from '../alerts/types.js';
import { type DeliverPayload, ids, JobNames } from './names.js';

export async function queueDeliveries(
  queues: ReadonlyMap<string, Queue<DeliverPayload>>,
  notifications: readonly Notification[],
  delivery: { attempts: number; backoffMs: number },
): Promise<number> {
  let n = 0;
  for (const note of notifications) {
    const q = queues.get(note.sink);
    if (!q) continue;
    // Deterministic job id: a replayed evaluation queues nothing twice.
    await q.add(
      JobNames.deliver,
      { notificationId: note.id },
      {
        jobId: ids.deliver(note.id),
        attempts: delivery.attempts,
        backoff: { type: 'exponential', delay: delivery.backoffMs },
      },
    );
    n++;
  }
  return n;
}
