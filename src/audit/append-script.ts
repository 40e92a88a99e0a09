/**
 * The append script of the audit chain (see redis-audit-log.ts for the contract it serves), its
 * tuning constants, and how its errors read.
 */
import { CwError, ErrorCodes } from '../errors.js';
import { CHECK_EFFECTS_LUA } from '../util/effects.js';

// KEYS: head, events, claim, idempotency index, then the effect keys. ARGV: expected head hash,
// expected head seq, GENESIS_HASH, append token, '1' to take the claim on a conflict, claim TTL ms,
// the number of events N, then per event: seq, hash, JSON, idempotency key ('' for none), effect
// count E, and E × 4 encoded effects. Returns {status, head seq, head hash}: 1 appended (now, or by
// an earlier identical call: ioredis re-sends after a reconnect), 0 conflict (the head moved), 2
// another writer holds the claim (the holder appends next, then the waiter competes again), 4 an
// idempotency key of the batch was recorded meanwhile (the client filters and retries). Nothing is
// written unless everything is: types are checked first, since Redis does not roll back a script.
export const APPEND_LUA = `${CHECK_EFFECTS_LUA}
local head = redis.call('HMGET', KEYS[1], 'seq', 'hash')
local curSeq = tonumber(head[1]) or 0
local curHash = head[2] or ARGV[3]
local n = tonumber(ARGV[7])
local firstSeq = tonumber(ARGV[8])
local fresh = curHash == ARGV[1] and curSeq == tonumber(ARGV[2]) and curSeq + 1 == firstSeq
if not fresh and curSeq >= firstSeq then
  local mine = redis.call('XRANGE', KEYS[2], ARGV[8] .. '-0', ARGV[8] .. '-0')
  if mine[1] and mine[1][2][2] == ARGV[10] then return {1, curSeq, curHash} end
end
local claim = redis.call('GET', KEYS[3])
if claim and claim ~= ARGV[4] then return {2, curSeq, curHash} end
if not fresh then
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[6]) end
  return {0, curSeq, curHash}
end
local at = {}
local i = 8
for e = 1, n do
  local idem = ARGV[i + 3]
  if idem ~= '' and redis.call('HEXISTS', KEYS[4], idem) == 1 then return {4, curSeq, curHash} end
  local ec = tonumber(ARGV[i + 4])
  local bad = cw_check_effects(i + 5, ec)
  if bad then return redis.error_reply('CWEFFECT ' .. bad) end
  at[e] = i
  i = i + 5 + ec * 4
end
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local topId = top[1] and top[1][1] or '0-0'
if topId ~= (curSeq .. '-0') then
  return redis.error_reply('CWAUDIT head says seq ' .. curSeq .. ' but the stream ends at ' .. topId)
end
local last = ''
for e = 1, n do
  local b = at[e]
  redis.call('XADD', KEYS[2], ARGV[b] .. '-0', 'e', ARGV[b + 2])
  if ARGV[b + 3] ~= '' then redis.call('HSET', KEYS[4], ARGV[b + 3], ARGV[b]) end
  cw_apply_effects(b + 5, tonumber(ARGV[b + 4]))
  last = b
end
if curSeq == 0 then redis.call('HSET', KEYS[1], 'first', ARGV[9]) end
redis.call('HSET', KEYS[1], 'seq', ARGV[last], 'hash', ARGV[last + 1])
if claim then redis.call('DEL', KEYS[3]) end
return {1, tonumber(ARGV[last]), ARGV[last + 1]}
`;

export const COMMAND = 'cwAuditAppendBatch';
export const CLAIM_AFTER_CONFLICTS = 3;
export const CLAIM_TTL_MS = 1000;
/** Per script call: bounded so one call never blocks Redis for long. */
export const DEFAULT_MAX_BATCH = 1000;
export const DEFAULT_MAX_BATCH_BYTES = 1 << 20;
export { COMPARE_AND_DELETE_LUA as UNCLAIM_LUA } from '../util/lease.js';

export type AppendCommand = (...keysThenArgs: string[]) => Promise<[number, number, string | null]>;

/** A Redis or script error as the CwError a caller sees (tampering is permanent; the rest retryable). */
export function wrap(op: string, err: unknown): CwError {
  if (err instanceof CwError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/CWAUDIT|equal or smaller than the target stream top/.test(msg)) {
    return new CwError(ErrorCodes.AUDIT_TAMPERED, `audit ${op} refused: ${msg.replace(/^.*CWAUDIT /, '')}`, {
      cause: err,
    });
  }
  if (/CWEFFECT/.test(msg)) {
    return new CwError(ErrorCodes.AUDIT, `audit ${op} refused: ${msg.replace(/^.*CWEFFECT /, '')}`, { cause: err });
  }
  return new CwError(ErrorCodes.AUDIT, `audit ${op} failed: ${msg}`, { cause: err, retryable: true });
}
