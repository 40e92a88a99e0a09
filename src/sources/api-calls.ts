/** API call accounting shared by every source: operations, HTTP attempts, and counts per operation. */
export interface ApiCallCounts {
  /** Operations (one per `send`). */
  total: number;
  /** HTTP attempts, retries included. */
  attempts: number;
  byOperation: Record<string, number>;
}

export function addCounts(into: ApiCallCounts, from: ApiCallCounts): ApiCallCounts {
  into.total += from.total;
  into.attempts += from.attempts;
  for (const [k, v] of Object.entries(from.byOperation)) into.byOperation[k] = (into.byOperation[k] ?? 0) + v;
  return into;
}

export function diffCounts(after: ApiCallCounts, before: ApiCallCounts): ApiCallCounts {
  const byOperation: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byOperation)) {
    const d = v - (before.byOperation[k] ?? 0);
    if (d > 0) byOperation[k] = d;
  }
  return { total: after.total - before.total, attempts: after.attempts - before.attempts, byOperation };
}

export const emptyCounts = (): ApiCallCounts => ({ total: 0, attempts: 0, byOperation: {} });
