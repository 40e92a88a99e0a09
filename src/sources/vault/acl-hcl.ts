/**
 * The tokenizer and parser for the HCL1 subset Vault policies use (object lists, strings,
 * numbers, lists, nested objects, comments); JSON is the same grammar with ':' for '='. One
 * tokenizer for both, so every error carries a line number.
 */
import { AclPolicyParseError } from './acl-types.js';

type TokKind = 'str' | 'num' | 'ident' | '{' | '}' | '[' | ']' | '=' | ',' | 'eof';
export interface Tok {
  kind: TokKind;
  text: string;
  line: number;
}

export function tokenize(src: string): Tok[] {
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

export interface ObjectValue {
  type: 'object';
  items: Item[];
  line: number;
}
export type Value =
  | { type: 'scalar'; value: string | number | boolean | null; line: number }
  | { type: 'list'; items: Value[]; line: number }
  | ObjectValue;
export interface Item {
  keys: string[];
  value: Value;
  line: number;
}

export class Parser {
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
