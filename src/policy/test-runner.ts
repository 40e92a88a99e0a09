/**
 * `policy test`: YAML test cases for policies, so security teams can unit-test them (as with
 * `opa test`). A test file (`*.test.yaml`) holds cases; each gives a time, credential fixtures
 * (partial records; the rest is filled with neutral defaults), optionally a registry, and the exact
 * set of findings (policy + credential) expected. A case may also give `previous:`, the
 * credentials of the scan before (same shape as `credentials`), for rules that compare two scans
 * (agent-grant-surge); without it there is no previous scan. Files are validated like policies:
 * one located error, exit 2.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { located, readYaml } from '../config/yaml-source.js';
import { CwError, ErrorCodes } from '../errors.js';
import { INPUT_LIMITS } from '../limits.js';
import type { Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import { loadRegistryText } from '../registry/load.js';
import { evaluatePolicies } from './evaluate.js';
import type { PolicySet } from './model.js';
import { previousFromCredentials } from './runaway.js';
import type { RuleServices } from './types.js';

const CredentialFixture = z.looseObject({
  id: z.string().regex(/^(aws|vault)\//, 'must start with aws/ or vault/'),
  kind: z.string(),
});
const Expect = z.strictObject({ policy: z.string(), credential: z.string(), severity: z.string().optional() });
const Case = z.strictObject({
  name: z.string().min(1),
  now: z.iso.datetime({ offset: true }),
  registry: z.unknown().optional(),
  credentials: z.array(CredentialFixture).min(1),
  /** The previous scan's credentials (may be empty: a scan that saw none). */
  previous: z.array(CredentialFixture).optional(),
  expect: z.array(Expect),
});
const TestFile = z.strictObject({ tests: z.array(Case).min(1) });

export interface CaseResult {
  file: string;
  name: string;
  ok: boolean;
  missing: string[];
  unexpected: string[];
}

const EMPTY_REGISTRY: Registry = {
  agents: [],
  unregistered: {
    aws: { tags: {}, namePatterns: [] },
    vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
  },
};

export function credentialFixture(raw: Record<string, unknown>, now: string): Credential {
  const id = String(raw.id);
  const sourceType = id.startsWith('vault/') ? 'vault' : 'aws';
  return {
    sourceType,
    source: id
      .split('/')
      .slice(1, sourceType === 'vault' ? 3 : 2)
      .join('/'),
    principal: id,
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants: [],
    tags: {},
    attributes: {},
    observedAt: now,
    ...raw,
  } as unknown as Credential;
}

async function testFiles(path: string): Promise<string[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new CwError(ErrorCodes.POLICY, `${path}: no such test file or directory`);
  if (!st.isDirectory()) return [path];
  return (await readdir(path))
    .filter((f) => /\.test\.ya?ml$/i.test(f))
    .sort()
    .map((f) => join(path, f));
}

export async function runPolicyTests(path: string, set: PolicySet, services: RuleServices = {}): Promise<CaseResult[]> {
  const files = await testFiles(path);
  if (files.length === 0) throw new CwError(ErrorCodes.POLICY, `${path}: no *.test.yaml files`);
  const results: CaseResult[] = [];
  for (const file of files) {
    const src = await readYaml(file, ErrorCodes.POLICY, INPUT_LIMITS.policyFileBytes);
    const parsed = TestFile.safeParse(src.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CwError(ErrorCodes.POLICY, located(src, issue.path, issue.message));
    }
    const names = new Set(set.policies.map((p) => p.name));
    parsed.data.tests.forEach((c, i) => {
      c.expect.forEach((e, j) => {
        if (!names.has(e.policy))
          throw new CwError(
            ErrorCodes.POLICY,
            located(src, ['tests', i, 'expect', j, 'policy'], `no policy named "${e.policy}" is loaded`),
          );
      });
    });
    for (const [i, c] of parsed.data.tests.entries()) {
      const registry =
        c.registry === undefined
          ? EMPTY_REGISTRY
          : loadRegistryText(`${file} tests[${i}].registry`, stringify(c.registry));
      const creds = c.credentials.map((r) => credentialFixture(r as Record<string, unknown>, c.now));
      const hits = evaluatePolicies({
        credentials: creds,
        policies: set.policies,
        registry,
        now: new Date(c.now),
        services,
        ...(c.previous
          ? {
              previous: previousFromCredentials(
                c.previous.map((r) => credentialFixture(r as Record<string, unknown>, c.now)),
              ),
            }
          : {}),
      });
      const got = new Set(
        hits.map(
          (h) => `${h.policy.name} ${h.credential.id}${c.expect.some((e) => e.severity) ? ` ${h.severity}` : ''}`,
        ),
      );
      const want = new Set(c.expect.map((e) => `${e.policy} ${e.credential}${e.severity ? ` ${e.severity}` : ''}`));
      const missing = [...want].filter(
        (w) => !got.has(w) && !(w.split(' ').length === 2 && [...got].some((g) => g.startsWith(`${w} `))),
      );
      const unexpected = [...got].filter((g) => !want.has(g) && ![...want].some((w) => g.startsWith(`${w} `)));
      results.push({ file, name: c.name, ok: missing.length === 0 && unexpected.length === 0, missing, unexpected });
    }
  }
  return results;
}
