/**
 * YAML parsing that remembers where each value came from, so every validation error can name the
 * file, the line and the key path: `credwarden.yaml:12 aws.accounts[1].roleArn: …`.
 */
import { open } from 'node:fs/promises';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { CwError, type ErrorCode, ErrorCodes } from '../errors.js';
import { describeBytes, INPUT_LIMITS } from '../limits.js';

export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
  value: unknown;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || '(root)';
}

export function lineOf(src: YamlSource, path: readonly PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = src.doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return src.lines.linePos(node.range[0]).line;
  }
  return null;
}

export function located(src: YamlSource, path: readonly PropertyKey[], message: string): string {
  const line = lineOf(src, path);
  return `${src.file}${line ? `:${line}` : ''} ${formatPath(path)}: ${message}`;
}

const KIND: Partial<Record<ErrorCode, string>> = {
  [ErrorCodes.CONFIG]: 'config file',
  [ErrorCodes.REGISTRY]: 'registry file',
  [ErrorCodes.POLICY]: 'policy file',
};

function tooBig(file: string, size: number, maxBytes: number, code: ErrorCode): CwError {
  return new CwError(
    code,
    `${file}: is ${describeBytes(size)}, over the limit of ${describeBytes(maxBytes)} for a ${KIND[code] ?? 'file'}`,
  );
}

/**
 * Read at most `maxBytes` of a file: the size is checked with a stat before anything is read, and
 * the read stops one byte past the limit (a file that grows meanwhile, or a pipe, cannot get past).
 */
async function readBounded(file: string, code: ErrorCode, maxBytes: number): Promise<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(file, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.size > maxBytes) throw tooBig(file, st.size, maxBytes, code);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1 - total, 64 * 1024));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooBig(file, total, maxBytes, code);
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof CwError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new CwError(code, `${file}: cannot read (${e.code ?? e.message})`);
  } finally {
    await fh?.close();
  }
}

/**
 * The offset of the first byte of the first ill-formed UTF-8 sequence (Unicode table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF), or -1 when every byte is well formed.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > n) return i;
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < len; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/** UTF-8 text, strictly: an invalid byte is an error naming the file, the line and the byte offset. */
export function decodeUtf8(file: string, bytes: Uint8Array, code: ErrorCode): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = Math.max(0, invalidUtf8Offset(bytes));
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    const byte = bytes[offset]?.toString(16).padStart(2, '0') ?? '??';
    throw new CwError(
      code,
      `${file}:${line}: invalid UTF-8 (byte 0x${byte} at offset ${offset}); save the file as UTF-8`,
    );
  }
}

/** Read, size-check, decode (strict UTF-8) and parse a YAML file. */
export async function readYaml(file: string, code: ErrorCode, maxBytes: number): Promise<YamlSource> {
  const bytes = await readBounded(file, code, maxBytes);
  return parseYamlText(file, decodeUtf8(file, bytes, code), code, maxBytes);
}

export function parseYamlText(file: string, text: string, code: ErrorCode, maxBytes?: number): YamlSource {
  if (maxBytes !== undefined && text.length > maxBytes / 3) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > maxBytes) throw tooBig(file, size, maxBytes, code);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw new CwError(code, `${file}${line ? `:${line}` : ''}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: INPUT_LIMITS.yamlMaxAliasCount });
  } catch (err) {
    const message = (err as Error).message;
    throw new CwError(
      code,
      /Excessive alias count/.test(message)
        ? `${file}: YAML aliases expand too much (an anchor is used more than ${INPUT_LIMITS.yamlMaxAliasCount} times, counting nested aliases); write the values out`
        : `${file}: YAML error: ${message.split('\n')[0]}`,
    );
  }
  return { file, doc, lines, value: value ?? {} };
}

/** Validate with zod; the first issue becomes one located error line. */
export function validate<T extends z.ZodType>(src: YamlSource, schema: T, code: ErrorCode): z.infer<T> {
  const res = schema.safeParse(src.value);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  // zod reports an unknown key at its parent's path; point at the key itself.
  const path =
    issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  const more = res.error.issues.length > 1 ? ` (and ${res.error.issues.length - 1} more)` : '';
  throw new CwError(code, located(src, path, `${issue.message}${more}`));
}
