/**
 * YAML parsing that remembers where each value came from, so every validation error can name the
 * file, the line and the key path: `credwarden.yaml:12 aws.accounts[1].roleArn: …`.
 */
import { readFile } from 'node:fs/promises';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { CwError, type ErrorCode } from '../errors.js';

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

export async function readYaml(file: string, code: ErrorCode): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CwError(code, `${file}: cannot read (${e.code ?? e.message})`);
  }
  return parseYamlText(file, text, code);
}

export function parseYamlText(file: string, text: string, code: ErrorCode): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw new CwError(code, `${file}${line ? `:${line}` : ''}: YAML syntax error: ${first.message.split('\n')[0]}`);
  }
  return { file, doc, lines, value: doc.toJS() ?? {} };
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
