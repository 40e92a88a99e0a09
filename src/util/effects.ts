/**
 * State writes that commit atomically with an audit event ("effects").
 *
 * Contract: an effect attached to an event is applied in the same Redis script that appends the
 * event, and only when that event is newly recorded. So "the state says X happened" holds exactly
 * when "the audit log says X happened": a crash can never leave an audited transition without its
 * state write, nor a state write without its audit event (DESIGN invariants 4 and 6). A replay whose
 * idempotency key is already recorded applies nothing, so an old effect can never overwrite newer
 * state.
 *
 * Before any write the script checks every effect key's type (a hash op on a hash or on nothing,
 * and so on), because Redis does not roll a script back when a command fails half-way.
 */

export type Effect =
  | { op: 'hset'; key: string; field: string; value: string }
  | { op: 'hdel'; key: string; field: string }
  | { op: 'set'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'sadd'; key: string; member: string }
  | { op: 'zadd'; key: string; member: string; score: number }
  | { op: 'expire'; key: string; seconds: number };

/** The Redis type each op needs its key to hold (or 'none', absent); null: any type. */
const NEEDS: Record<Effect['op'], string | null> = {
  hset: 'hash',
  hdel: 'hash',
  set: null,
  del: null,
  sadd: 'set',
  zadd: 'zset',
  expire: null,
};

/** Effects encoded for the append script: 4 strings each (op, key index, a, b). */
export function encodeEffects(effects: readonly Effect[], keyIndex: (key: string) => number): string[] {
  const out: string[] = [];
  for (const e of effects) {
    const k = String(keyIndex(e.key));
    switch (e.op) {
      case 'hset':
        out.push('hset', k, e.field, e.value);
        break;
      case 'hdel':
        out.push('hdel', k, e.field, '');
        break;
      case 'set':
        out.push('set', k, e.value, '');
        break;
      case 'del':
        out.push('del', k, '', '');
        break;
      case 'sadd':
        out.push('sadd', k, e.member, '');
        break;
      case 'zadd':
        out.push('zadd', k, e.member, String(e.score));
        break;
      case 'expire':
        out.push('expire', k, String(e.seconds), '');
        break;
    }
  }
  return out;
}

export function effectBytes(effects: readonly Effect[]): number {
  let n = 0;
  for (const e of effects) {
    n += e.key.length + 16;
    if ('value' in e) n += e.value.length;
    if ('field' in e) n += e.field.length;
    if ('member' in e) n += e.member.length;
  }
  return n;
}

/**
 * Lua that checks the types of the effects encoded in ARGV from index `start` for `count` effects
 * (KEYS indices inside), returning an error reply before anything is written.
 */
export const CHECK_EFFECTS_LUA = `
local CW_NEEDS = {${Object.entries(NEEDS)
  .map(([op, t]) => `${op}='${t ?? ''}'`)
  .join(',')}}
local function cw_check_effects(start, count)
  local j = start
  for k = 1, count do
    local need = CW_NEEDS[ARGV[j]]
    if need == nil then return 'unknown effect op ' .. tostring(ARGV[j]) end
    if need ~= '' then
      local key = KEYS[tonumber(ARGV[j + 1])]
      local t = redis.call('TYPE', key)['ok']
      if t ~= 'none' and t ~= need then return 'effect ' .. ARGV[j] .. ' on ' .. key .. ' which holds a ' .. t end
    end
    j = j + 4
  end
  return nil
end
local function cw_apply_effects(start, count)
  local j = start
  for k = 1, count do
    local op, key, a, b = ARGV[j], KEYS[tonumber(ARGV[j + 1])], ARGV[j + 2], ARGV[j + 3]
    if op == 'hset' then redis.call('HSET', key, a, b)
    elseif op == 'hdel' then redis.call('HDEL', key, a)
    elseif op == 'set' then redis.call('SET', key, a)
    elseif op == 'del' then redis.call('DEL', key)
    elseif op == 'sadd' then redis.call('SADD', key, a)
    elseif op == 'zadd' then redis.call('ZADD', key, b, a)
    elseif op == 'expire' then redis.call('EXPIRE', key, a)
    end
    j = j + 4
  end
end
`;

/** Assigns KEYS indices to effect keys after `fixed` leading keys. */
export class KeyTable {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly fixed: number) {}
  of = (key: string): number => {
    let i = this.index.get(key);
    if (i === undefined) {
      this.keys.push(key);
      i = this.fixed + this.keys.length;
      this.index.set(key, i);
    }
    return i;
  };
}
