/**
 * Vault ACL policy text (HCL or JSON) → path rules with capabilities, parameters and wrapping
 * TTLs, including the legacy `policy = "write"` form. Invalid input throws AclPolicyParseError.
 */
import { type ObjectValue, Parser, tokenize, type Value } from './acl-hcl.js';
import { AclPolicyParseError, type AclRule, CAPABILITIES } from './acl-types.js';

const LEGACY_POLICY: Record<string, string[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

const PATH_KEYS = new Set<string>([
  ...['comment', 'policy', 'capabilities', 'allowed_parameters', 'denied_parameters', 'required_parameters'],
  ...['min_wrapping_ttl', 'max_wrapping_ttl', 'mfa_methods', 'control_group', 'subscribe_event_types'],
]);

// ---- tokenizer ---------------------------------------------------------------------------------

export function parseAclPolicy(text: string): AclRule[] {
  const items = new Parser(tokenize(text)).parseFile();
  const rules: AclRule[] = [];
  for (const item of items) {
    const [head, ...rest] = item.keys;
    if (head === 'name') continue;
    if (head !== 'path') throw new AclPolicyParseError(item.line, `invalid key "${head}"`);
    for (const [path, body] of pathEntries(rest, item.value, item.line)) rules.push(toRule(path, body));
  }
  return rules;
}

/** `path "x" {}`, `path = { "x" = {} }`, `path { "x" {} }` and JSON's `"path": [{ "x": {} }]`. */
function pathEntries(keys: string[], value: Value, line: number): [string, ObjectValue][] {
  if (keys.length > 1) throw new AclPolicyParseError(line, 'a path block takes exactly one path');
  if (keys.length === 1) {
    if (value.type !== 'object') throw new AclPolicyParseError(line, `path "${keys[0]}" must be a block`);
    return [[keys[0]!, value]];
  }
  if (value.type === 'list') return value.items.flatMap((v) => pathEntries([], v, v.line));
  if (value.type !== 'object') throw new AclPolicyParseError(line, 'path must be a block');
  return value.items.flatMap((it) => pathEntries(it.keys, it.value, it.line));
}

function toRule(rawPath: string, body: ObjectValue): AclRule {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const where = `path "${path}"`;
  if (path.includes('+*'))
    throw new AclPolicyParseError(body.line, `${where}: invalid use of wildcards ('+*' is forbidden)`);
  const rule: AclRule = { path, capabilities: [] };
  let legacy: string[] = [];
  for (const it of body.items) {
    const key = it.keys.join(' ');
    if (!PATH_KEYS.has(key)) throw new AclPolicyParseError(it.line, `${where}: invalid key "${key}"`);
    const v = it.value;
    switch (key) {
      case 'capabilities':
        rule.capabilities = stringList(v, `${where}: capabilities`);
        break;
      case 'policy': {
        const p = scalar(v, `${where}: policy`);
        const mapped = typeof p === 'string' ? LEGACY_POLICY[p] : undefined;
        if (!mapped) throw new AclPolicyParseError(v.line, `${where}: invalid policy "${String(p)}"`);
        legacy = mapped;
        break;
      }
      case 'allowed_parameters':
        rule.allowedParameters = parameterMap(v, `${where}: allowed_parameters`);
        break;
      case 'denied_parameters':
        rule.deniedParameters = parameterMap(v, `${where}: denied_parameters`);
        break;
      case 'required_parameters':
        rule.requiredParameters = stringList(v, `${where}: required_parameters`);
        break;
      case 'min_wrapping_ttl':
      case 'max_wrapping_ttl': {
        const secs = parseDurationSeconds(scalar(v, `${where}: ${key}`));
        if (secs === null) throw new AclPolicyParseError(v.line, `${where}: invalid duration for ${key}`);
        if (key === 'min_wrapping_ttl') rule.minWrappingTtl = secs;
        else rule.maxWrappingTtl = secs;
        break;
      }
    }
  }
  const caps = [...rule.capabilities, ...legacy];
  for (const c of caps) {
    if (!(CAPABILITIES as readonly string[]).includes(c)) {
      throw new AclPolicyParseError(body.line, `${where}: invalid capability "${c}"`);
    }
  }
  rule.capabilities = caps.includes('deny') ? ['deny'] : [...new Set(caps)];
  if (rule.minWrappingTtl && rule.maxWrappingTtl && rule.maxWrappingTtl < rule.minWrappingTtl) {
    throw new AclPolicyParseError(body.line, `${where}: max_wrapping_ttl cannot be less than min_wrapping_ttl`);
  }
  return rule;
}

function scalar(v: Value, what: string): string | number | boolean | null {
  if (v.type !== 'scalar') throw new AclPolicyParseError(v.line, `${what} must be a single value`);
  return v.value;
}

function stringList(v: Value, what: string): string[] {
  if (v.type !== 'list') throw new AclPolicyParseError(v.line, `${what} must be a list`);
  return v.items.map((x) => {
    if (x.type !== 'scalar' || typeof x.value !== 'string') {
      throw new AclPolicyParseError(x.line, `${what} must contain only strings`);
    }
    return x.value;
  });
}

function parameterMap(v: Value, what: string): Record<string, unknown[]> {
  if (v.type !== 'object') throw new AclPolicyParseError(v.line, `${what} must be a map`);
  const out: Record<string, unknown[]> = {};
  for (const it of v.items) {
    if (it.value.type !== 'list')
      throw new AclPolicyParseError(it.line, `${what}: "${it.keys.join(' ')}" must be a list`);
    out[it.keys.join(' ').toLowerCase()] = it.value.items.map(plain);
  }
  return out;
}

function plain(v: Value): unknown {
  if (v.type === 'scalar') return v.value;
  if (v.type === 'list') return v.items.map(plain);
  return Object.fromEntries(v.items.map((it) => [it.keys.join(' '), plain(it.value)]));
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * Vault's ParseDurationSecond: a number or digit string is seconds; otherwise a Go duration
 * ("1h30m", "90s", "1.5h"). Fractions of a second are truncated. Returns null when invalid.
 */
export function parseDurationSeconds(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.trunc(v) : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return null;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    i = re.lastIndex;
  }
  return Math.trunc(total + 1e-9);
}
