/**
 * Loads policy files (`policies/*.yaml`): policies and exceptions, validated before anything runs.
 * Every error is one CwError(POLICY) naming the file, line and key path; an unknown rule type or
 * action lists the valid ones; rule parameters are checked against the rule type's own schema.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import { actionNames, getActionType } from '../actions/index.js';
import { located, readYaml, type YamlSource } from '../config/yaml-source.js';
import { CwError, ErrorCodes } from '../errors.js';
import { INPUT_LIMITS } from '../limits.js';
import { CREDENTIAL_KINDS, type CredentialKind } from '../model/credential.js';
import type { Policy, PolicyException, PolicySet } from './model.js';
import { getRuleType, ruleTypes } from './rules/index.js';
import { SEVERITIES } from './types.js';

const CODE = ErrorCodes.POLICY;
const KINDS = CREDENTIAL_KINDS as readonly [CredentialKind, ...CredentialKind[]];
const globs = z.array(z.string().min(1)).min(1);

const PolicySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,80}$/, 'must be lowercase letters, digits and dashes'),
  description: z.string().min(1),
  resource: z
    .strictObject({
      kinds: z.array(z.enum(KINDS)).min(1).optional(),
      sources: globs.optional(),
      agents: globs.optional(),
      tags: z.record(z.string(), z.string()).optional(),
      environments: globs.optional(),
    })
    .default({}),
  rules: z.array(z.looseObject({ type: z.string().min(1) })).min(1),
  severity: z.enum(SEVERITIES as unknown as [string, ...string[]]),
  mode: z.enum(['observe', 'enforce']).default('observe'),
  /**
   * Who lifted the policy to enforce: an API subject (or the name a person gives `--as`). Its
   * actions are that person's request, so four-eyes never counts them among the approvers.
   */
  enforcedBy: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._@+-]+$/, 'must be a subject: letters, digits and . _ @ + -')
    .optional(),
  remediation: z.array(z.union([z.string().min(1), z.looseObject({ action: z.string().min(1) })])).default([]),
  metadata: z.looseObject({ controls: z.record(z.string(), z.array(z.string())).optional() }).default({}),
});

/** One exception: policy files' `exceptions[]`, and the runtime ones (findings/exception-store.ts) validate with it. */
export const ExceptionSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/, 'must be letters, digits, dot, dash or underscore'),
  selector: z
    .strictObject({
      credentials: globs.optional(),
      agents: globs.optional(),
      policies: globs.optional(),
      rules: globs.optional(),
    })
    .refine((s) => Object.keys(s).length > 0, {
      message: 'needs at least one of credentials, agents, policies, rules',
    }),
  owner: z.string().min(1),
  reason: z.string().min(1),
  expires: z.iso.datetime({ offset: true }).or(z.iso.date()),
});

const FileSchema = z.strictObject({
  policies: z.array(z.unknown()).default([]),
  exceptions: z.array(z.unknown()).default([]),
});

function fail(src: YamlSource, path: PropertyKey[], message: string): never {
  throw new CwError(CODE, located(src, path, message));
}

function check<T>(src: YamlSource, path: PropertyKey[], schema: z.ZodType<T>, value: unknown): T {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const extra = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [issue.keys[0]] : [];
  return fail(src, [...path, ...issue.path, ...extra], issue.message);
}

function parsePolicy(src: YamlSource, i: number, raw: unknown): Policy {
  const at: PropertyKey[] = ['policies', i];
  const p = check(src, at, PolicySchema, raw);
  const rules = p.rules.map((r, j) => {
    const { type, ...params } = r;
    const rt = getRuleType(type);
    if (!rt)
      fail(
        src,
        [...at, 'rules', j, 'type'],
        `unknown rule type "${type}" (valid: ${ruleTypes()
          .map((x) => x.name)
          .join(', ')})`,
      );
    const parsed = check(src, [...at, 'rules', j], rt.schema, params);
    if (rt.kinds && p.resource.kinds) {
      const outside = p.resource.kinds.filter((k) => !rt.kinds!.includes(k as CredentialKind));
      if (outside.length)
        fail(
          src,
          [...at, 'resource', 'kinds'],
          `rule "${type}" applies only to ${rt.kinds.join(', ')}, not ${outside.join(', ')}`,
        );
    }
    return { type, params: parsed };
  });
  const remediation = p.remediation.map((r, j) => {
    const { action, ...params } = typeof r === 'string' ? { action: r } : r;
    const type = getActionType(action);
    if (!type) fail(src, [...at, 'remediation', j], `unknown action "${action}" (valid: ${actionNames().join(', ')})`);
    if (type.kinds.length > 0 && p.resource.kinds) {
      // Several actions may share a multi-kind policy (each acts on its own kinds); one that can
      // act on none of the policy's kinds could never run.
      if (!p.resource.kinds.some((k) => type.kinds.includes(k as CredentialKind)))
        fail(
          src,
          [...at, 'remediation', j],
          `action "${action}" acts only on ${type.kinds.join(', ')}, and this policy selects ${p.resource.kinds.join(', ')}`,
        );
    }
    return { action, params: check(src, [...at, 'remediation', j], type.schema, params) };
  });
  return {
    ...p,
    resource: p.resource as Policy['resource'],
    severity: p.severity as Policy['severity'],
    rules,
    remediation,
    metadata: p.metadata as Policy['metadata'],
    file: src.file,
    pack: basename(src.file, extname(src.file)),
  };
}

/** What a directory source contributes: `*.yaml` and `*.yml` in any case, minus `*.test.yaml` (policy tests). */
const POLICY_FILE = /\.ya?ml$/i;
const TEST_FILE = /\.test\.ya?ml$/i;
const LOOKED_FOR = '*.yaml or *.yml files (any case; *.test.yaml are skipped) with a top-level "policies:" list';

interface PolicySource {
  path: string;
  isDir: boolean;
  files: string[];
}

async function policySources(paths: readonly string[]): Promise<PolicySource[]> {
  const out: PolicySource[] = [];
  for (const p of paths) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch {
      throw new CwError(CODE, `${p}: no such policy file or directory`);
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p)).filter((f) => POLICY_FILE.test(f) && !TEST_FILE.test(f)).sort();
      if (entries.length === 0)
        throw new CwError(CODE, `${p}: no policy files in this directory (looked for ${LOOKED_FOR})`);
      out.push({ path: p, isDir: true, files: entries.map((f) => join(p, f)) });
    } else out.push({ path: p, isDir: false, files: [p] });
  }
  return out;
}

/**
 * Every source (a file or directory entry of `policies:`) must yield something, and the set must
 * hold at least one policy: an empty or mistyped source would otherwise evaluate to "no findings".
 * A source holding only exceptions is allowed (exceptions kept in their own file).
 */
export async function loadPolicies(paths: readonly string[]): Promise<PolicySet> {
  const sources = await policySources(paths);
  const files = sources.flatMap((s) => s.files);
  const set: PolicySet = { policies: [], exceptions: [], files };
  const names = new Map<string, string>();
  const exIds = new Map<string, string>();
  for (const source of sources) {
    const before = set.policies.length + set.exceptions.length;
    for (const file of source.files) {
      const src = await readYaml(file, CODE, INPUT_LIMITS.policyFileBytes);
      const doc = check(src, [], FileSchema, src.value ?? {});
      doc.policies.forEach((raw, i) => {
        const p = parsePolicy(src, i, raw);
        const prev = names.get(p.name);
        if (prev) fail(src, ['policies', i, 'name'], `policy "${p.name}" is already defined in ${prev}`);
        names.set(p.name, file);
        set.policies.push(p);
      });
      doc.exceptions.forEach((raw, i) => {
        const e = check(src, ['exceptions', i], ExceptionSchema, raw);
        const prev = exIds.get(e.id);
        if (prev) fail(src, ['exceptions', i, 'id'], `exception "${e.id}" is already defined in ${prev}`);
        exIds.set(e.id, file);
        set.exceptions.push({ ...e, expires: new Date(e.expires).toISOString(), file } as PolicyException);
      });
    }
    if (set.policies.length + set.exceptions.length === before) {
      throw new CwError(
        CODE,
        source.isDir
          ? `${source.path}: no policies in ${source.files.length} policy files (looked for ${LOOKED_FOR})`
          : `${source.path}: holds no policies (looked for a top-level "policies:" list)`,
      );
    }
  }
  if (set.policies.length === 0)
    throw new CwError(CODE, `${paths.join(', ')}: no policies, only exceptions (looked for ${LOOKED_FOR})`);
  return set;
}
