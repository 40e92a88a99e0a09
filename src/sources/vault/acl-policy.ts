/**
 * Vault ACL policies: parse the HCL (or JSON) text Vault stores, and answer "which capabilities
 * does this set of policies grant on this path" the way Vault's `vault/acl.go` does.
 *
 * Parsing covers the HCL1 subset real policies use (`path "x" { ... }`, `#`, `//` and block
 * comments, nested `allowed_parameters = { "k" = [] }`, legacy `policy = "write"`) and JSON,
 * through one tokenizer so both report line numbers. Invalid input throws AclPolicyParseError.
 *
 * Matching: exact rules first (for LIST also the path without its trailing slash), then the
 * longest `*` prefix rule competing with `+` segment rules under Vault's priority order. Rules
 * that share a pattern are unioned, and `deny` in a merged rule removes every other capability.
 * A deny on a less specific pattern does NOT override a more specific allow (Vault semantics).
 */

export interface AclRule {
  /** The pattern as written, minus one leading `/`; a trailing `*` is kept. */
  path: string;
  capabilities: string[];
  /** Seconds. */
  minWrappingTtl?: number;
  /** Seconds. */
  maxWrappingTtl?: number;
  allowedParameters?: Record<string, unknown[]>;
  deniedParameters?: Record<string, unknown[]>;
  requiredParameters?: string[];
}

export type AclPathRule = Pick<AclRule, 'path' | 'capabilities'>;

export interface AclMatch {
  capabilities: Set<string>;
  matchedPattern: string | null;
}

export interface MatchOptions {
  /** The request is a LIST: apply Vault's trailing-slash fallbacks. */
  list?: boolean;
}

export class AclPolicyParseError extends Error {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`failed to parse policy: line ${line}: ${detail}`);
    this.name = 'AclPolicyParseError';
  }
}

export const CAPABILITIES = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
  'subscribe',
  'recover',
] as const;

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

type TokKind = 'str' | 'num' | 'ident' | '{' | '}' | '[' | ']' | '=' | ',' | 'eof';
interface Tok {
  kind: TokKind;
  text: string;
  line: number;
}

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const start = line;
      i += 2;
      while (i < n && !(src[i] === '*' && src[i + 1] === '/')) {
        if (src[i] === '\n') line++;
        i++;
      }
      if (i >= n) throw new AclPolicyParseError(start, 'unterminated block comment');
      i += 2;
    } else if ('{}[]=,:'.includes(c)) {
      toks.push({ kind: c === ':' ? '=' : (c as TokKind), text: c, line });
      i++;
    } else if (c === '"') {
      const start = line;
      let out = '';
      i++;
      for (;;) {
        if (i >= n || src[i] === '\n') throw new AclPolicyParseError(start, 'unterminated string');
        const ch = src[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/' };
          if (e !== undefined && e in simple) {
            out += simple[e];
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            out += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            throw new AclPolicyParseError(line, `invalid escape "\\${e ?? ''}" in string`);
          }
        } else {
          out += ch;
          i++;
        }
      }
      i++;
      toks.push({ kind: 'str', text: out, line: start });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(src.slice(i));
      if (!m) throw new AclPolicyParseError(line, `unexpected character "${c}"`);
      toks.push({ kind: 'num', text: m[0], line });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i))!;
      toks.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else {
      throw new AclPolicyParseError(line, `unexpected character "${c}"`);
    }
  }
  toks.push({ kind: 'eof', text: '', line });
  return toks;
}

// ---- parser (HCL1 object lists; JSON is the same grammar with ':' for '=') ---------------------

interface ObjectValue {
  type: 'object';
  items: Item[];
  line: number;
}
type Value =
  | { type: 'scalar'; value: string | number | boolean | null; line: number }
  | { type: 'list'; items: Value[]; line: number }
  | ObjectValue;
interface Item {
  keys: string[];
  value: Value;
  line: number;
}

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }
  private next(): Tok {
    return this.toks[this.pos++]!;
  }
  private expect(kind: TokKind): Tok {
    const t = this.next();
    if (t.kind !== kind) throw new AclPolicyParseError(t.line, `expected "${kind}", found ${describe(t)}`);
    return t;
  }

  parseFile(): Item[] {
    if (this.peek().kind === '{') {
      const obj = this.parseObject();
      this.expect('eof');
      return obj.items;
    }
    const items = this.parseItems('eof');
    this.expect('eof');
    return items;
  }

  private parseItems(end: TokKind): Item[] {
    const items: Item[] = [];
    while (this.peek().kind !== end) {
      items.push(this.parseItem());
      if (this.peek().kind === ',') this.next();
    }
    return items;
  }

  private parseItem(): Item {
    const first = this.peek();
    const keys: string[] = [];
    while (this.peek().kind === 'str' || this.peek().kind === 'ident') keys.push(this.next().text);
    if (keys.length === 0) throw new AclPolicyParseError(first.line, `expected a key, found ${describe(first)}`);
    const t = this.peek();
    if (t.kind === '=') {
      this.next();
      return { keys, value: this.parseValue(), line: first.line };
    }
    if (t.kind === '{') return { keys, value: this.parseObject(), line: first.line };
    throw new AclPolicyParseError(t.line, `expected "=" or "{" after "${keys.join(' ')}", found ${describe(t)}`);
  }

  private parseObject(): ObjectValue {
    const open = this.expect('{');
    const items = this.parseItems('}');
    this.expect('}');
    return { type: 'object', items, line: open.line };
  }

  private parseValue(): Value {
    const t = this.peek();
    switch (t.kind) {
      case '{':
        return this.parseObject();
      case '[': {
        this.next();
        const items: Value[] = [];
        while (this.peek().kind !== ']') {
          items.push(this.parseValue());
          if (this.peek().kind !== ',') break;
          this.next();
        }
        this.expect(']');
        return { type: 'list', items, line: t.line };
      }
      case 'str':
        this.next();
        return { type: 'scalar', value: t.text, line: t.line };
      case 'num':
        this.next();
        return { type: 'scalar', value: Number(t.text), line: t.line };
      case 'ident':
        this.next();
        if (t.text === 'true' || t.text === 'false') return { type: 'scalar', value: t.text === 'true', line: t.line };
        if (t.text === 'null') return { type: 'scalar', value: null, line: t.line };
        throw new AclPolicyParseError(t.line, `unexpected identifier "${t.text}" (strings must be quoted)`);
      default:
        throw new AclPolicyParseError(t.line, `expected a value, found ${describe(t)}`);
    }
  }
}

function describe(t: Tok): string {
  return t.kind === 'eof' ? 'end of input' : `"${t.text}"`;
}

// ---- policy interpretation ---------------------------------------------------------------------

/** Parse policy text (HCL or JSON) into its path rules, in source order. */
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

// ---- matching ----------------------------------------------------------------------------------

interface Merged {
  pattern: string;
  caps: Set<string>;
}
interface SegmentRule extends Merged {
  parts: string[];
  isPrefix: boolean;
  firstWildcard: number;
  wildcards: number;
  wcPath: string;
}
interface Candidate {
  merged: Merged;
  firstWildcard: number;
  isPrefix: boolean;
  wildcards: number;
  wcPath: string;
}

/** A union of policies compiled once, for repeated matching. */
export class CompiledAcl {
  private readonly exact = new Map<string, Merged>();
  private readonly prefixes: (Merged & { prefix: string })[] = [];
  private readonly segments: SegmentRule[] = [];

  constructor(rules: readonly AclPathRule[]) {
    const byPattern = new Map<string, Merged>();
    for (const r of rules) {
      const pattern = r.path.startsWith('/') ? r.path.slice(1) : r.path;
      let m = byPattern.get(pattern);
      if (!m) {
        m = { pattern, caps: new Set() };
        byPattern.set(pattern, m);
      }
      for (const c of r.capabilities) m.caps.add(c);
      if (m.caps.has('deny')) m.caps = new Set(['deny']);
    }
    for (const m of byPattern.values()) {
      const p = m.pattern;
      const hasSegments = p === '+' || p.includes('/+') || p.startsWith('+/');
      if (hasSegments) {
        const isPrefix = p.endsWith('*');
        const wcPath = isPrefix ? p.slice(0, -1) : p;
        const parts = wcPath.split('/');
        const wildcards = parts.filter((x) => x === '+').length;
        this.segments.push({ ...m, parts, isPrefix, wcPath, wildcards, firstWildcard: p.indexOf('+') });
      } else if (p.endsWith('*')) {
        this.prefixes.push({ ...m, prefix: p.slice(0, -1) });
      } else {
        this.exact.set(p, m);
      }
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(rawPath: string, opts: MatchOptions = {}): AclMatch {
    const path = rawPath.replace(/^\/+/, '');
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    const found =
      this.exact.get(path) ??
      (opts.list ? this.exact.get(trimmed) : undefined) ??
      (opts.list && path !== trimmed ? this.nonExact(trimmed) : undefined) ??
      this.nonExact(path);
    if (!found) return { capabilities: new Set(), matchedPattern: null };
    return { capabilities: new Set(found.caps), matchedPattern: found.pattern };
  }

  private nonExact(path: string): Merged | undefined {
    const candidates: Candidate[] = [];
    const prefix = this.prefixes.find((p) => path.startsWith(p.prefix));
    if (prefix) {
      if (this.segments.length === 0) return prefix;
      candidates.push({
        merged: prefix,
        firstWildcard: prefix.prefix.length,
        isPrefix: true,
        wildcards: 0,
        wcPath: prefix.prefix,
      });
    }
    const pathParts = path.split('/');
    for (const s of this.segments) {
      if (pathParts.length < s.parts.length) continue;
      if (!s.isPrefix && s.parts.length !== pathParts.length) continue;
      const last = s.parts.length - 1;
      const ok = s.parts.every(
        (part, i) =>
          part === '+' || part === pathParts[i] || (s.isPrefix && i === last && pathParts[i]!.startsWith(part)),
      );
      if (ok) candidates.push({ merged: s, ...s });
    }
    if (candidates.length === 0) return undefined;
    candidates.sort(lowerPriorityFirst);
    return candidates[candidates.length - 1]!.merged;
  }
}

/** Vault's ordering (policies.mdx "Priority matching"): the last element wins. */
function lowerPriorityFirst(a: Candidate, b: Candidate): number {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard - b.firstWildcard;
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcards !== b.wildcards) return b.wildcards - a.wildcards;
  if (a.wcPath.length !== b.wcPath.length) return a.wcPath.length - b.wcPath.length;
  return a.wcPath < b.wcPath ? -1 : a.wcPath > b.wcPath ? 1 : 0;
}

/** Capabilities that the union of `rules` grants on `path`; empty set when nothing matches. */
export function matchAcl(rules: readonly AclPathRule[] | CompiledAcl, path: string, opts?: MatchOptions): AclMatch {
  const acl = rules instanceof CompiledAcl ? rules : new CompiledAcl(rules);
  return acl.match(path, opts);
}

/** True when every capability in `needed` is granted on `path` (a matched `deny` grants nothing). */
export function hasCapabilities(
  rules: readonly AclPathRule[] | CompiledAcl,
  path: string,
  needed: readonly string[],
  opts?: MatchOptions,
): boolean {
  const { capabilities } = matchAcl(rules, path, opts);
  if (capabilities.has('deny')) return false;
  return needed.every((c) => capabilities.has(c));
}
