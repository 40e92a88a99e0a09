/**
 * Remediation benchmark: `npm run bench:remediate [-- options]`. A measurement, not a test.
 *
 * Part 1, pure, on one core (no I/O): synthesizes `--findings N` open findings over N credentials
 * (access keys of about N/2 users, some roles, console passwords and Vault tokens; ten accounts,
 * one without a remediation role; 500 agents in prod, staging and dev; protect and break-glass
 * tags on a few; policies asking deactivate-key, delete-key, quarantine, notify-owner,
 * revoke-token, delete-login-profile and the not-yet-available rotate-key, one in mode observe;
 * a few malformed records, findings whose credential left the inventory and one unloaded policy),
 * each with the RuleHits and evidence its rule would record. Then it times `planActions` and
 * `guardPlans` separately: one warm-up run, then `--runs` timed runs each, and prints median and
 * min, the rates per second, and the counts by action, skip code, decision and reason code, so
 * the numbers can be checked. The guard runs twice: with the schema's defaults (mode enforce;
 * caps hold every batch) and with a tuned config (caps opened, rate limit, change window,
 * freeze, protect globs, approvals by action, severity and environment).
 *
 * Part 2, against moto: starts its own moto_server, seeds `--keys K` agent users with one
 * never-used access key each, builds an App the way test/support/remediation-env.ts does (real
 * Redis under a fresh prefix, ManualClock 10 days ahead, remediation mode enforce, caps, rate and
 * cooldown opened up so nothing is held), runs scan + evaluate + planScan in process, then
 * executes the queued actions with `--concurrency C` in flight and prints actions/second, p50/p95
 * latency per action, the remediation port's IAM calls per action (`ports.aws.calls`) and every
 * AWS call of the execute phase (the live re-check's reads too), and verifies with ListAccessKeys
 * that exactly K keys are Inactive. Deletes the Redis prefix, stops moto and removes the temp dir
 * at the end, also on error or Ctrl-C.
 *
 * Options:
 *   --findings N     findings (= credentials) for part 1 (default 100000)
 *   --runs R         timed runs per measurement, after one warm-up (default 5, at least 3)
 *   --keys K         agent users (one key each) for part 2 (default 200)
 *   --concurrency C  actions in flight in part 2 (default 4, at most 32; aws.maxConcurrency follows it)
 *   --only P         pure | moto: run one part only (default both)
 * Target (issue 10): at least 50,000 guard decisions a second on one core.
 */
import os from 'node:os';
import type { ActionType } from '../../src/actions/action-type.js';
import { getActionType } from '../../src/actions/index.js';
import type { ActionTarget, GuardDecision } from '../../src/model/action.js';
import type { Agent, Registry } from '../../src/model/agent.js';
import type { Credential, CredentialKind } from '../../src/model/credential.js';
import type { Finding, RuleHit, Severity } from '../../src/model/finding.js';
import { awsAccessKeyId, awsConsolePasswordId, awsRoleId, vaultTokenId } from '../../src/model/ids.js';
import type { Policy } from '../../src/policy/model.js';
import { type RemediationConfig, RemediationSchema } from '../../src/remediation/config.js';
import { type GuardState, guardPlans } from '../../src/remediation/guard.js';
import { planActions } from '../../src/remediation/plan.js';
import { argValue, checkFlags, intArg, usage } from './support.js';

const B = 'remediate';
// The SDK's notice that future releases need Node 22 is not what this benchmark measures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const FLAGS = ['findings', 'runs', 'keys', 'concurrency', 'only'];
checkFlags(B, FLAGS);
// Every word that is not a flag must be the value of the flag before it.
process.argv.slice(2).forEach((a, i, all) => {
  if (!a.startsWith('--') && (i === 0 || !all[i - 1]!.startsWith('--')))
    usage(B, `unexpected argument "${a}" (options: ${FLAGS.map((f) => `--${f}`).join(', ')})`);
});
const within = (name: string, fallback: number, min: number, max: number): number => {
  const v = intArg(B, name, fallback, min);
  if (v > max) usage(B, `--${name} is at most ${max.toLocaleString('en')}, got ${v}`);
  return v;
};
const FINDINGS = within('findings', 100_000, 1, 5_000_000);
const RUNS = within('runs', 5, 3, 100);
const KEYS = within('keys', 200, 1, 5_000);
const CONCURRENCY = within('concurrency', 4, 1, 32);
const ONLY = argValue('only') ?? 'both';
if (!['both', 'pure', 'moto'].includes(ONLY)) usage(B, `--only must be pure or moto, got "${ONLY}"`);

const log = (m: string): void => {
  process.stderr.write(`bench:${B}: ${m}\n`);
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
const ms = (x: number): string => `${x.toFixed(1)} ms`;
const rate = (n: number, millis: number): string => (millis > 0 ? fmt(n / (millis / 1000)) : 'n/a');
const tally = (into: Record<string, number>, key: string, by = 1): void => {
  into[key] = (into[key] ?? 0) + by;
};
const sorted = (o: Record<string, number>): string =>
  Object.entries(o)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
};

// =============================================================================================
// Part 1: the synthetic estate (deterministic: the same N gives the same estate).

const NOW = new Date('2026-11-27T10:00:00Z'); // a Friday, 11:00 in Berlin: inside the tuned window
const NOW_ISO = NOW.toISOString();
const DAY = 86_400_000;
const ACCOUNTS = Array.from({ length: 10 }, (_, k) => `1111111111${String(k).padStart(2, '0')}`);
const NO_ROLE_ACCOUNT = ACCOUNTS[9]!; // listed, but without a remediationRoleArn
const ENVIRONMENTS = ['prod', 'prod', 'staging', 'staging', 'dev'];
const SERVICES = ['s3', 'dynamodb', 'sqs', 'lambda', 'kms', 'secretsmanager', 'logs', 'ec2'];

let seed = 0x2f6e2b1;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

/** A fake access key id: AKIA + the index in base 32, 16 characters (what the planner's id check accepts). */
const keyIdOf = (i: number): string => `AKIA${i.toString(32).toUpperCase().padStart(16, '0')}`;

const AGENTS: Agent[] = Array.from({ length: 500 }, (_, k) => ({
  id: k < 10 ? `agent-core-${k}` : `agent-${String(k).padStart(3, '0')}`,
  name: `Agent ${k}`,
  ...(k % 50 === 49 ? {} : { owner: { team: `team-${k % 25}`, contact: `team-${k % 25}@example.com` } }),
  version: '1.4.2',
  environment: ENVIRONMENTS[k % ENVIRONMENTS.length]!,
  scopes: { aws: ['s3:GetObject'], vault: [] },
  selectors: { aws: { users: [`svc-${k}-*`] } },
}));
const REGISTRY: Registry = {
  agents: AGENTS,
  unregistered: {
    aws: { tags: { agent: 'true' }, namePatterns: ['svc-*'] },
    vault: { meta: ['agent'], displayNamePatterns: [], policyPatterns: [] },
  },
};

const remediation = (...actions: string[]): Policy['remediation'] => actions.map((action) => ({ action, params: {} }));
const policy = (
  name: string,
  kinds: CredentialKind[],
  rule: string,
  severity: Severity,
  mode: Policy['mode'],
  rem: Policy['remediation'],
): Policy => ({
  name,
  description: name,
  resource: { kinds, agents: ['*', 'unregistered'] },
  rules: [{ type: rule, params: {} }],
  severity,
  mode,
  remediation: rem,
  metadata: {},
  file: 'bench/policies.yaml',
  pack: 'bench',
});
// delete-key's params as the loader would leave them: the action name stripped.
const deleteKeyEntry = { action: 'delete-key', params: { afterDays: 7 } };
const POLICIES: Policy[] = [
  policy('agent-key-unused-30d', ['aws-access-key'], 'unused-for', 'medium', 'enforce', remediation('deactivate-key')),
  policy(
    'agent-key-never-used',
    ['aws-access-key'],
    'never-used',
    'medium',
    'enforce',
    remediation('deactivate-key', 'notify-owner'),
  ),
  policy('agent-key-inactive-present', ['aws-access-key'], 'inactive-present', 'low', 'enforce', [deleteKeyEntry]),
  policy(
    'agent-admin-equivalent',
    ['aws-access-key', 'aws-role'],
    'aws-admin',
    'critical',
    'enforce',
    remediation('quarantine', 'notify-owner'),
  ),
  policy(
    'agent-service-wildcard',
    ['aws-access-key', 'aws-role'],
    'aws-service-wildcard',
    'high',
    'enforce',
    remediation('notify-owner'),
  ),
  policy(
    'cis-aws-key-rotation-90d',
    ['aws-access-key'],
    'rotation-overdue',
    'medium',
    'enforce',
    remediation('rotate-key'),
  ),
  // Observe: its plans are dry-run. "Each acts on its own kind": the other one is a kind-mismatch skip.
  policy(
    'cis-aws-credentials-unused-45d',
    ['aws-access-key', 'aws-console-password'],
    'unused-for',
    'medium',
    'observe',
    remediation('deactivate-key', 'delete-login-profile'),
  ),
  policy(
    'agent-token-never-expires',
    ['vault-token'],
    'never-expires',
    'high',
    'enforce',
    remediation('revoke-token', 'notify-owner'),
  ),
];
const POLICY_MAP = new Map(POLICIES.map((p) => [p.name, p]));
for (const p of POLICIES) {
  for (const e of p.remediation)
    if (e.action !== 'rotate-key' && !getActionType(e.action))
      throw new Error(`bench: policy ${p.name} asks for unknown action ${e.action}`);
}

const isoDaysAgo = (d: number): string => new Date(NOW.getTime() - d * DAY).toISOString();

function unusedHit(lastUsedAt: string, service: string, threshold: number): RuleHit {
  const idle = Math.floor((NOW.getTime() - Date.parse(lastUsedAt)) / DAY);
  return {
    message: `unused for ${idle} days (last used ${lastUsedAt.slice(0, 10)} via ${service} in us-east-1; threshold ${threshold})`,
    evidence: [
      { field: 'lastUsed.at', value: lastUsedAt },
      { field: 'lastUsed.service', value: service },
      { field: 'lastUsed.region', value: 'us-east-1' },
      { field: 'lastUsed.source', value: 'credential-report' },
      { field: 'lastUsed.asOf', value: NOW_ISO },
    ],
    detector: 'unused',
  };
}
function neverUsedHit(c: Credential): RuleHit {
  const age = Math.floor((NOW.getTime() - Date.parse(c.createdAt ?? NOW_ISO)) / DAY);
  return {
    message: `never used in the ${age} days since creation (created ${(c.createdAt ?? '').slice(0, 10)}; per credential-report as of ${NOW_ISO}; grace 3 days)`,
    evidence: [
      { field: 'lastUsed.at', value: null, note: 'never used' },
      { field: 'lastUsed.source', value: 'credential-report' },
      { field: 'lastUsed.asOf', value: NOW_ISO },
      { field: 'createdAt', value: c.createdAt },
      { field: 'status', value: c.status },
    ],
    detector: 'never-used',
  };
}
function statementHit(
  detector: string,
  key: string,
  summary: string,
  policyName: string,
  severity?: Severity,
  managedArn?: string,
): RuleHit {
  return {
    message: `${summary} (${managedArn ? `managed policy ${managedArn}` : `inline policy ${policyName}`})`,
    evidence: [
      {
        field: 'grants[0]',
        statement: {
          summary,
          provenance: managedArn
            ? { policy: policyName, policyArn: managedArn, attachment: 'managed' }
            : { policy: policyName, attachment: 'inline' },
        },
        note: 'unconditional, on every resource',
      },
    ],
    ...(severity ? { severity } : {}),
    confidence: 'confirmed',
    detector,
    key,
  };
}

interface Estate {
  credentials: Map<string, Credential>;
  findings: Finding[];
  users: number;
  byKind: Record<string, number>;
  collapsed: number;
  missing: number;
  malformed: number;
  unknownPolicy: number;
  protectedTags: number;
  breakGlassTags: number;
  lastActionAt: Map<string, string>;
}

function buildEstate(n: number): Estate {
  const credentials = new Map<string, Credential>();
  const findings: Finding[] = [];
  const byKind: Record<string, number> = {};
  const lastActionAt = new Map<string, string>();
  let akIndex = 0;
  const userNames = new Set<string>();
  let collapsed = 0;
  let missing = 0;
  let malformed = 0;
  let unknownPolicy = 0;
  let protectedTags = 0;
  let breakGlassTags = 0;

  for (let i = 0; i < n; i++) {
    const r = i % 100;
    const kind: CredentialKind =
      r < 90 || r === 99 ? 'aws-access-key' : r < 94 ? 'aws-role' : r < 97 ? 'vault-token' : 'aws-console-password';
    tally(byKind, kind);
    // Access keys come in pairs per user: about N/2 users.
    const userIdx = kind === 'aws-access-key' ? akIndex++ >> 1 : n + i;
    const account = userIdx % 20 === 19 ? NO_ROLE_ACCOUNT : ACCOUNTS[userIdx % 9]!;
    const unattributed = userIdx % 13 === 5;
    const agent = unattributed ? null : AGENTS[userIdx % AGENTS.length]!;
    const userName = agent ? `svc-${userIdx % AGENTS.length}-${userIdx}` : `svc-orphan-${userIdx}`;
    const userId = `AIDA${String(userIdx).padStart(17, '0')}`;
    const tags: Record<string, string> = { team: agent?.owner?.team ?? 'unknown', 'cost-center': `cc-${userIdx % 40}` };
    if (i % 100 === 7) {
      tags['credwarden-protect'] = 'true';
      protectedTags++;
    }
    if (i % 500 === 13) {
      tags['break-glass'] = 'true';
      breakGlassTags++;
    }
    const createdAt =
      i % 997 === 3
        ? null
        : i % 211 === 5
          ? new Date(NOW.getTime() - 6 * 3_600_000).toISOString()
          : isoDaysAgo(3 + ((i * 7919) % 700));
    let cred: Credential;
    if (kind === 'aws-access-key') {
      const keyId = keyIdOf(i);
      userNames.add(`${account}/${userName}`);
      const bad = r === 99; // a record without its UserId: the planner skips rather than guess
      if (bad) malformed++;
      cred = {
        id: awsAccessKeyId(account, keyId),
        kind,
        sourceType: 'aws',
        source: account,
        principal: `arn:aws:iam::${account}:user/${userName}`,
        agentId: agent?.id ?? null,
        owner: agent?.owner ?? null,
        unregisteredAgent: agent === null,
        createdAt,
        lastUsed: null,
        expiresAt: null,
        status: 'active',
        grants: [],
        tags,
        attributes: { userName, ...(bad ? {} : { userId }), path: '/', groups: ['agents'], accessKeyId: keyId },
        observedAt: NOW_ISO,
      };
    } else if (kind === 'aws-role') {
      const roleName = `agent-role-${i}`;
      cred = {
        id: awsRoleId(account, roleName),
        kind,
        sourceType: 'aws',
        source: account,
        principal: `arn:aws:iam::${account}:role/${roleName}`,
        agentId: agent?.id ?? null,
        owner: agent?.owner ?? null,
        unregisteredAgent: agent === null,
        createdAt,
        lastUsed: { at: isoDaysAgo(i % 30), region: 'us-east-1', source: 'RoleLastUsed', asOf: NOW_ISO },
        expiresAt: null,
        status: 'active',
        grants: [],
        tags,
        attributes: { roleName, roleId: `AROA${String(i).padStart(17, '0')}`, path: '/', trustPolicy: null },
        observedAt: NOW_ISO,
      };
    } else if (kind === 'vault-token') {
      const accessor = `acc${i.toString(36).padStart(21, '0')}`;
      cred = {
        id: vaultTokenId('main', '', accessor),
        kind,
        sourceType: 'vault',
        source: 'main/root',
        principal: `token-${agent?.id ?? 'orphan'}-${i}`,
        agentId: agent?.id ?? null,
        owner: agent?.owner ?? null,
        unregisteredAgent: agent === null,
        createdAt,
        lastUsed: null,
        expiresAt: null,
        status: 'active',
        grants: [],
        tags: {},
        attributes: { accessor, periodSeconds: 0, policies: ['agent'], displayName: `token-${i}` },
        observedAt: NOW_ISO,
      };
    } else {
      const name = `svc-console-${userIdx}`;
      userNames.add(`${account}/${name}`);
      cred = {
        id: awsConsolePasswordId(account, name),
        kind,
        sourceType: 'aws',
        source: account,
        principal: `arn:aws:iam::${account}:user/${name}`,
        agentId: agent?.id ?? null,
        owner: agent?.owner ?? null,
        unregisteredAgent: agent === null,
        createdAt,
        lastUsed: null,
        expiresAt: null,
        status: 'active',
        grants: [],
        tags,
        attributes: { userName: name, userId: `AIDA${String(n + i).padStart(17, '0')}`, mfaActive: false },
        observedAt: NOW_ISO,
      };
    }

    // The finding, with what its rule would have recorded.
    const p = rand();
    let names: string[];
    let hits: RuleHit[];
    const service = SERVICES[i % SERVICES.length]!;
    if (kind === 'aws-access-key' && r !== 99) {
      if (p < 0.3) {
        const at = isoDaysAgo(46 + (i % 200));
        cred.lastUsed = { at, service, region: 'us-east-1', source: 'credential-report', asOf: NOW_ISO };
        hits = [unusedHit(at, service, 30)];
        names = i % 3 === 0 ? ['agent-key-unused-30d', 'cis-aws-credentials-unused-45d'] : ['agent-key-unused-30d'];
        if (names.length > 1) collapsed++;
      } else if (p < 0.5) {
        cred.lastUsed = { at: null, source: 'credential-report', asOf: NOW_ISO };
        hits = [neverUsedHit(cred)];
        names = ['agent-key-never-used'];
      } else if (p < 0.62) {
        cred.status = 'inactive';
        hits = [
          {
            message: `inactive but still present, created ${(cred.createdAt ?? '').slice(0, 10)}: it can be re-activated`,
            evidence: [
              { field: 'status', value: 'inactive' },
              { field: 'createdAt', value: cred.createdAt },
            ],
            detector: 'inactive',
          },
        ];
        names = ['agent-key-inactive-present'];
      } else if (p < 0.72) {
        hits = [statementHit('admin', `star-on-star:admin-${i % 17}#0`, 'Allow * on *', `admin-${i % 17}`, 'critical')];
        if (i % 4 === 0)
          hits.push(
            statementHit('admin', 'self-put-user-policy', 'Allow iam:PutUserPolicy on own user', 'self-service'),
          );
        names = ['agent-admin-equivalent'];
      } else if (p < 0.82) {
        hits = [
          {
            message: `created ${(cred.createdAt ?? '').slice(0, 10)}, not rotated for more than 90 days`,
            evidence: [{ field: 'createdAt', value: cred.createdAt }],
            detector: 'rotation',
          },
        ];
        names = ['cis-aws-key-rotation-90d'];
      } else if (p < 0.9) {
        hits = [
          statementHit(
            'service-wildcard',
            `${service}:*`,
            `Allow ${service}:* on *`,
            `${service}-all`,
            undefined,
            `arn:aws:iam::${account}:policy/${service}-all`,
          ),
        ];
        names = ['agent-service-wildcard'];
      } else {
        const at = isoDaysAgo(50 + (i % 100));
        cred.lastUsed = { at, service, region: 'us-east-1', source: 'credential-report', asOf: NOW_ISO };
        hits = [unusedHit(at, service, 45)];
        names = ['cis-aws-credentials-unused-45d'];
      }
    } else if (kind === 'aws-access-key') {
      const at = isoDaysAgo(40 + (i % 90));
      cred.lastUsed = { at, service, region: 'us-east-1', source: 'credential-report', asOf: NOW_ISO };
      hits = [unusedHit(at, service, 30)];
      names = ['agent-key-unused-30d'];
    } else if (kind === 'aws-role') {
      hits =
        p < 0.5
          ? [statementHit('admin', `star-on-star:role-admin#0`, 'Allow * on *', 'role-admin', 'critical')]
          : [statementHit('service-wildcard', `${service}:*`, `Allow ${service}:* on *`, `${service}-all`)];
      names = [p < 0.5 ? 'agent-admin-equivalent' : 'agent-service-wildcard'];
    } else if (kind === 'vault-token') {
      hits = [
        {
          message: 'a non-periodic token without an expiry: it lives until revoked',
          evidence: [
            { field: 'expiresAt', value: null },
            { field: 'attributes.periodSeconds', value: 0 },
          ],
          detector: 'never-expires',
        },
      ];
      names = ['agent-token-never-expires'];
    } else {
      const at = isoDaysAgo(60 + (i % 120));
      cred.lastUsed = { at, source: 'credential-report', asOf: NOW_ISO };
      hits = [unusedHit(at, 'console', 45)];
      names = ['cis-aws-credentials-unused-45d'];
    }
    if (i % 1000 === 500) {
      names = ['legacy-key-policy-removed']; // its file is gone: unknown-policy
      unknownPolicy++;
    }

    const primary = names[0]!;
    const severity = hits.find((h) => h.severity)?.severity ?? POLICY_MAP.get(primary)?.severity ?? 'medium';
    findings.push({
      fingerprint: `fp-${(i * 2_654_435_761).toString(16).padStart(12, '0')}`,
      policy: primary,
      policies: [...names].sort(),
      rules: names.map((nm) => POLICY_MAP.get(nm)?.rules[0]?.type ?? 'unknown'),
      credentialId: cred.id,
      kind: cred.kind,
      agentId: cred.agentId,
      owner: cred.owner,
      severity,
      state: 'open',
      message: hits.map((h) => h.message).join('; '),
      hits,
      controls: {},
      principal: cred.principal,
      source: cred.source,
      firstSeen: isoDaysAgo(1 + (i % 20)),
      lastSeen: NOW_ISO,
      resolvedAt: null,
      reopened: 0,
      exceptionId: null,
    });
    // 0.5%: the credential left the inventory since the evaluation (deleted by someone): credential-missing.
    if (i % 200 === 77) missing++;
    else credentials.set(cred.id, cred);
    // credwarden acted on 3% in the last hours (cooldown holds them) and on 1% two days ago (cooldown over).
    if (i % 100 === 41 || i % 100 === 42 || i % 100 === 43) lastActionAt.set(cred.id, isoDaysAgo(0.1));
    if (i % 100 === 44) lastActionAt.set(cred.id, isoDaysAgo(2));
  }
  return {
    credentials,
    findings,
    users: userNames.size,
    byKind,
    collapsed,
    missing,
    malformed,
    unknownPolicy,
    protectedTags,
    breakGlassTags,
    lastActionAt,
  };
}

function credentialsFor(t: ActionTarget): string | null {
  if (t.sourceType === 'aws')
    return t.source === NO_ROLE_ACCOUNT ? `account ${t.source} has no remediationRoleArn` : null;
  return t.source.startsWith('main/') ? null : `vault cluster ${t.source.split('/')[0]} is not configured`;
}

interface Timed<T> {
  medianMs: number;
  minMs: number;
  runsMs: number[];
  last: T;
}
function time<T>(fn: () => T, runs: number): Timed<T> {
  let last = fn(); // warm-up
  const runsMs: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    last = fn();
    runsMs.push(performance.now() - t0);
  }
  return { medianMs: median(runsMs), minMs: Math.min(...runsMs), runsMs, last };
}

function partOne(): void {
  const tb = performance.now();
  const estate = buildEstate(FINDINGS);
  const buildMs = performance.now() - tb;
  const sources = new Set([...estate.credentials.values()].map((c) => c.source));
  const awsAccounts = [...sources].filter((x) => /^\d{12}$/.test(x)).length;
  console.log(`\npart 1: planActions + guardPlans, pure, one core (${RUNS} timed runs each after 1 warm-up)`);
  console.log(
    `  estate:     ${fmt(FINDINGS)} credentials (${sorted(estate.byKind)}); access keys and passwords of ${fmt(estate.users)} users; ` +
      `${awsAccounts} AWS accounts (${NO_ROLE_ACCOUNT} without a remediation role) and ${sources.size - awsAccounts} Vault namespace; ` +
      `${AGENTS.length} agents; built in ${ms(buildMs)}`,
  );
  console.log(
    `  findings:   ${fmt(estate.findings.length)} open; ${fmt(estate.collapsed)} collapsed over two policies; ` +
      `${fmt(estate.missing)} whose credential left the inventory; ${fmt(estate.malformed)} on records without a UserId; ` +
      `${fmt(estate.unknownPolicy)} of an unloaded policy; tags: ${fmt(estate.protectedTags)} credwarden-protect, ${fmt(estate.breakGlassTags)} break-glass`,
  );
  console.log(
    `  policies:   ${POLICIES.length} (${POLICIES.map((p) => `${p.name}${p.mode === 'observe' ? ' [observe]' : ''}: ${p.remediation.map((e) => e.action).join('+')}`).join('; ')})`,
  );

  // --- planActions
  const input = {
    scanId: 'scan-bench',
    now: NOW,
    findings: estate.findings,
    policies: POLICY_MAP as ReadonlyMap<string, Policy>,
    credentials: estate.credentials as ReadonlyMap<string, Credential>,
    registry: REGISTRY,
    actionType: getActionType as (name: string) => ActionType | undefined,
  };
  const plan = time(() => planActions(input), RUNS);
  const { plans, skipped } = plan.last;
  const byAction: Record<string, number> = {};
  for (const p of plans) tally(byAction, p.action);
  const bySkip: Record<string, number> = {};
  for (const s of skipped) tally(bySkip, s.reason.slice(0, s.reason.indexOf(':')));
  console.log(
    `  planActions: median ${ms(plan.medianMs)}, min ${ms(plan.minMs)} (runs ${plan.runsMs.map((x) => x.toFixed(0)).join(', ')} ms)`,
  );
  console.log(
    `    ${fmt(estate.findings.length)} findings → ${fmt(plans.length)} plans + ${fmt(skipped.length)} skipped; ` +
      `plans/s ${rate(plans.length, plan.medianMs)} median, ${rate(plans.length, plan.minMs)} best; ` +
      `findings/s ${rate(estate.findings.length, plan.medianMs)} median, ${rate(estate.findings.length, plan.minMs)} best`,
  );
  console.log(`    plans by action: ${sorted(byAction)}`);
  console.log(`    skipped by code: ${sorted(bySkip)}`);

  // --- guardPlans, as the service builds its state.
  const matchedByPolicy = new Map<string, number>();
  for (const f of estate.findings)
    for (const p of f.policies ?? [f.policy]) matchedByPolicy.set(p, (matchedByPolicy.get(p) ?? 0) + 1);
  const planned = new Set(plans.map((p) => p.target.credentialId));
  const lastActionAt = new Map([...estate.lastActionAt].filter(([id]) => planned.has(id)));
  const configs: { label: string; config: RemediationConfig; recentActions: number }[] = [
    { label: 'defaults', config: RemediationSchema.parse({ mode: 'enforce' }), recentActions: 5 },
    {
      label: 'tuned',
      recentActions: 1_200,
      config: RemediationSchema.parse({
        mode: 'enforce',
        // percentPerRun counts a policy's plans (two per finding when it asks two actions) against its
        // matched findings, so it can pass 100 %: off here, as every cap is.
        caps: { perPolicyPerRun: 1_000_000, percentPerRun: 100, percentMinMatched: 1_000_000_000 },
        rate: { max: 5_000, perHours: 1 },
        protect: {
          agents: ['agent-core-*'],
          accounts: [],
          credentials: ['aws/*/role/agent-role-1?'],
        },
        minAgeHours: 24,
        windows: [{ cron: '* 6-20 * * 1-5', tz: 'Europe/Berlin' }],
        freezes: [{ from: '2026-12-20', to: '2027-01-04', tz: 'UTC', reason: 'year-end freeze' }],
        cooldownHours: 24,
        approvals: {
          required: [
            { actions: ['delete-key', 'quarantine'] },
            { severities: ['critical'], environments: ['prod*'] },
            { policies: ['agent-token-*'], environments: ['prod'] },
          ],
        },
      }),
    },
  ];
  const guardRates: number[] = [];
  for (const { label, config, recentActions } of configs) {
    const state: GuardState = {
      now: NOW,
      config,
      paused: null,
      breaker: null,
      recentActions,
      lastActionAt,
      matchedByPolicy,
      credentialsFor,
    };
    const g = time(() => guardPlans(plans, state), RUNS);
    const decisions: Map<string, GuardDecision> = g.last;
    const byDecision: Record<string, number> = {};
    const byReason: Record<string, number> = {};
    for (const d of decisions.values()) {
      tally(byDecision, d.decision);
      for (const code of new Set(d.reasons.map((x) => x.code))) tally(byReason, code);
    }
    const bestRate = decisions.size / (g.minMs / 1000);
    const medianRate = decisions.size / (g.medianMs / 1000);
    guardRates.push(medianRate);
    const c = config;
    console.log(
      `  guardPlans [${label}: caps ${c.caps.perPolicyPerRun}/run ${c.caps.percentPerRun}%, rate ${c.rate.max}/${c.rate.perHours} h with ${recentActions} started, ` +
        `${c.windows.length} window(s), ${c.freezes.length} freeze(s), ${c.approvals.required.length} approval rule(s), minAge ${c.minAgeHours} h, cooldown ${c.cooldownHours} h]`,
    );
    console.log(
      `    median ${ms(g.medianMs)}, min ${ms(g.minMs)} (runs ${g.runsMs.map((x) => x.toFixed(0)).join(', ')} ms); ` +
        `${fmt(decisions.size)} decisions; decisions/s ${fmt(medianRate)} median, ${fmt(bestRate)} best`,
    );
    console.log(`    decisions: ${sorted(byDecision)}`);
    console.log(`    plans with reason: ${sorted(byReason)}`);
  }
  const worst = Math.min(...guardRates);
  console.log(
    `  target ≥ 50,000 decisions/s on one core: ${worst >= 50_000 ? 'met' : 'NOT met'} (slowest median ${fmt(worst)} decisions/s)`,
  );
}

// =============================================================================================
// Part 2: against moto.

type Release = { what: string; fn: () => Promise<unknown> };
const releases: Release[] = [];
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const r of releases.reverse()) {
    try {
      await r.fn();
    } catch (err) {
      log(`cleanup: ${r.what} failed: ${(err as Error).message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function pool(n: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function partTwo(): Promise<{ ok: boolean }> {
  const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { Redis } = await import('ioredis');
  const { ListAccessKeysCommand } = await import('@aws-sdk/client-iam');
  const { countedApp } = await import('./counted-app.js');
  const { ManualClock } = await import('../../src/clock.js');
  const { createUser, seederFor } = await import('../../test/support/aws-seed.js');
  const { startMoto } = await import('../../test/support/moto.js');
  const { useMotoCredentialsEnv, writeTestFiles } = await import('../../test/support/app.js');
  const { ACCOUNT, REGISTRY: ENV_REGISTRY, neverUsedPolicy } = await import('../../test/support/remediation-env.js');
  const { deletePrefix, randomPrefix, REDIS_URL } = await import('./support.js');
  const { join } = await import('node:path');

  const awsConcurrency = Math.max(4, CONCURRENCY);
  console.log(
    `\npart 2: against moto: ${KEYS} agent users with one never-used key each, actions executed ${CONCURRENCY} in flight`,
  );

  // Every IAM/STS operation any client of the App sends (scanner and remediation pools alike).
  const allCalls: Record<string, number> = {};

  const t0 = performance.now();
  const moto = await startMoto();
  releases.push({ what: 'stopping moto', fn: () => moto.stop() });
  log(`moto on ${moto.endpoint} (${ms(performance.now() - t0)})`);

  // Seed: K users `agent-bench-NNNNN` (the scenario's registry claims agent-*), one key each, never used.
  const seeder = await seederFor(moto.endpoint, ACCOUNT);
  releases.push({ what: 'seeder client', fn: async () => seeder.iam.destroy() });
  const userName = (i: number): string => `agent-bench-${String(i).padStart(5, '0')}`;
  const ts = performance.now();
  await pool(KEYS, 16, async (i) => {
    await createUser(seeder, { name: userName(i), keys: ['active'] }, moto.endpoint);
  });
  const seedMs = performance.now() - ts;

  // The App, as remediation-env.ts builds it, with caps, rate and cooldown opened up.
  useMotoCredentialsEnv();
  const prefix = randomPrefix(B);
  const clock = new ManualClock(Date.now() + 10 * DAY);
  const files = writeTestFiles(
    {
      redis: { prefix },
      aws: {
        endpoint: moto.endpoint,
        region: 'us-east-1',
        maxConcurrency: awsConcurrency,
        accounts: [
          {
            id: ACCOUNT,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-reader`,
            remediationRoleArn: `arn:aws:iam::${ACCOUNT}:role/credwarden-remediator`,
          },
        ],
      },
      policies: ['policies'],
      remediation: {
        mode: 'enforce',
        minAgeHours: 1,
        approvals: { required: [] },
        caps: { perPolicyPerRun: KEYS * 10, percentPerRun: 100, percentMinMatched: KEYS * 10 },
        rate: { max: KEYS * 10, perHours: 1 },
        cooldownHours: 0,
      },
    },
    ENV_REGISTRY,
  );
  releases.push({ what: `removing ${files.dir}`, fn: async () => rmSync(files.dir, { recursive: true, force: true }) });
  mkdirSync(join(files.dir, 'policies'));
  writeFileSync(join(files.dir, 'policies', 'p.yaml'), neverUsedPolicy('[deactivate-key]'));
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  releases.push({ what: 'redis connection', fn: async () => redis.disconnect() });
  releases.push({
    what: `deleting Redis prefix ${prefix}`,
    fn: async () => log(`deleted ${await deletePrefix(redis, prefix)} Redis keys under ${prefix}:`),
  });
  const { app, enqueued: queued } = await countedApp(files.configPath, clock, allCalls);
  releases.push({ what: 'closing the app', fn: () => app.close() });

  const scanId = `bench-remediate-${prefix.slice(-8)}`;
  const t1 = performance.now();
  await app.orchestrator.runInProcess(scanId, 'bench', app.orchestrator.units(), 1);
  const t2 = performance.now();
  const evaluation = await app.findings.evaluateScan(scanId);
  const t3 = performance.now();
  const summary = await app.remediation.planScan(scanId);
  const t4 = performance.now();
  const credentials = (await app.scans.currentInventory()).length;
  console.log(`  seeding:    ${KEYS} users + keys in ${ms(seedMs)} (not part of any number below)`);
  console.log(
    `  scan ${ms(t2 - t1)} (${credentials} credentials), evaluate ${ms(t3 - t2)} (open ${JSON.stringify(evaluation.open)}), ` +
      `planScan ${ms(t4 - t3)} (${summary.plans} plans, ${JSON.stringify(summary.byDecision)}, ${summary.queued.length} queued, ${summary.skipped} skipped)`,
  );

  // Execute the queue, C in flight.
  const port = app.remediation.d.ports.aws;
  const before = { total: port.calls.total, attempts: port.calls.attempts, byOperation: { ...port.calls.byOperation } };
  const allBefore = { ...allCalls };
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures: string[] = [];
  const te = performance.now();
  await pool(queued.length, CONCURRENCY, async (i) => {
    const id = queued[i]!;
    const a = performance.now();
    try {
      const rec = await app.executor.execute(id);
      tally(outcomes, `${rec.state}/${rec.result?.outcome ?? '-'}`);
      if (rec.state !== 'done' && failures.length < 3) failures.push(`${id}: ${rec.state}: ${rec.result?.detail}`);
    } catch (err) {
      tally(outcomes, 'threw');
      if (failures.length < 3) failures.push(`${id}: ${(err as Error).message}`);
    }
    latencies.push(performance.now() - a);
  });
  const execMs = performance.now() - te;
  const n = queued.length;
  const portOps: Record<string, number> = {};
  for (const [k, v] of Object.entries(port.calls.byOperation)) {
    const d = v - (before.byOperation[k] ?? 0);
    if (d > 0) portOps[k] = d;
  }
  const portTotal = port.calls.total - before.total;
  const portAttempts = port.calls.attempts - before.attempts;
  const execOps: Record<string, number> = {};
  for (const [k, v] of Object.entries(allCalls)) {
    const d = v - (allBefore[k] ?? 0);
    if (d > 0) execOps[k] = d;
  }
  const execTotal = Object.values(execOps).reduce((a, b) => a + b, 0);
  const per = (x: number): string => (n > 0 ? (x / n).toFixed(2) : 'n/a');
  const perOp = (o: Record<string, number>): string =>
    Object.entries(o)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `${k} ${per(v)}`)
      .join(', ');
  console.log(
    `  execute:    ${n} actions in ${ms(execMs)} → ${rate(n, execMs)} actions/s (concurrency ${CONCURRENCY}, aws.maxConcurrency ${awsConcurrency})`,
  );
  console.log(
    `    latency per action: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, max ${ms(Math.max(0, ...latencies))}`,
  );
  console.log(`    outcomes: ${sorted(outcomes)}${failures.length ? `; e.g. ${failures.join(' | ')}` : ''}`);
  console.log(
    `    remediation port (ports.aws.calls): ${per(portTotal)} calls per action (${per(portAttempts)} HTTP attempts): ${perOp(portOps)}`,
  );
  console.log(
    `    every AWS call of the execute phase (port + live re-check reads): ${per(execTotal)} per action: ${perOp(execOps)}`,
  );

  // Verify: exactly K keys Inactive, read back with ListAccessKeys on every seeded user.
  let inactive = 0;
  let active = 0;
  await pool(KEYS, 16, async (i) => {
    const out = await seeder.iam.send(new ListAccessKeysCommand({ UserName: userName(i) }));
    for (const k of out.AccessKeyMetadata ?? []) {
      if (k.Status === 'Inactive') inactive++;
      else active++;
    }
  });
  const ok = inactive === KEYS && active === 0 && n === KEYS;
  console.log(
    `  verify:     ${inactive} of ${KEYS} seeded keys Inactive, ${active} Active (ListAccessKeys on each user): ${ok ? 'OK' : 'MISMATCH'}`,
  );
  return { ok };
}

// =============================================================================================

const cpus = os.cpus();
console.log(
  `bench:${B}: Node ${process.version}, ${cpus[0]?.model ?? 'unknown CPU'} (${cpus.length} logical CPUs; one JS thread measured), ${os.platform()} ${os.arch()}`,
);
// Exit 1 only when part 2's read-back does not match or something broke; a missed target is printed.
let ok = true;
try {
  if (ONLY !== 'moto') partOne();
  if (ONLY !== 'pure') ok = (await partTwo()).ok;
} catch (err) {
  console.error(`bench:${B}: ${(err as Error).stack ?? String(err)}`);
  ok = false;
} finally {
  await cleanup();
}
process.exit(ok ? 0 : 1);
