/**
 * What every export format reads (ocsf.ts, asff.ts, csv.ts, sarif.ts): the findings as presented
 * (principal and account filled, findings/present.ts), the policies behind them, the product and
 * its version, the credentials' risk scores and the ASFF settings. Merged findings (tombstones of
 * one risk folded into another finding) are never exported: their risk lives on in the finding
 * they were merged into. The formats themselves are pure functions of this input.
 */
import { type PresentedFinding, presentFinding } from '../findings/present.js';
import type { App } from '../main.js';
import type { Finding, Severity } from '../model/finding.js';
import { packageRoot } from '../util/package-root.js';

export const PRODUCT_NAME = 'credwarden';
export const VENDOR_NAME = 'credwarden';

export interface ExportPolicy {
  name: string;
  description: string;
  severity: Severity;
  controls: Record<string, string[]>;
}

export interface ExportInput {
  findings: readonly PresentedFinding[];
  /** Every loaded policy by name (SARIF lists them all as rules; titles come from descriptions). */
  policies: ReadonlyMap<string, ExportPolicy>;
  product: { name: string; vendor: string; version: string };
  /** Credential id → its risk score (open findings only; absent: no score). */
  scores: ReadonlyMap<string, number>;
  asff: {
    /** The Security Hub account: the ProductArn's account, and AwsAccountId of Vault findings. */
    accountId: string | null;
    region: string;
  };
  generatedAt: Date;
}

export function exportable(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.state !== 'merged');
}

/** The input for `findings` (already filtered by the caller), from the app's inventory, policies and config. */
export async function exportInputFromApp(
  app: App,
  findings: readonly Finding[],
  generatedAt: Date = app.clock.now(),
): Promise<ExportInput> {
  const inventory = new Map((await app.scans.currentInventory()).map((c) => [c.id, c]));
  const names = new Map((app.config.aws?.accounts ?? []).flatMap((a) => (a.name ? [[a.id, a.name] as const] : [])));
  const scores = await app.findings.credentialScores();
  const asff = app.config.evidence.asff;
  return {
    findings: exportable(findings).map((f) => presentFinding(f, inventory, names)),
    policies: new Map(
      app.policies.policies.map((p) => [
        p.name,
        { name: p.name, description: p.description, severity: p.severity, controls: p.metadata.controls ?? {} },
      ]),
    ),
    product: { name: PRODUCT_NAME, vendor: VENDOR_NAME, version: packageRoot().version },
    scores: new Map([...scores].map(([id, s]) => [id, s.score])),
    asff: { accountId: asff?.accountId ?? null, region: asff?.region ?? app.config.aws?.region ?? 'us-east-1' },
    generatedAt,
  };
}

// ---- helpers the formats share

export const isAws = (f: Pick<Finding, 'kind'>): boolean => f.kind.startsWith('aws-');

/** The AWS account id of a finding (null for Vault). */
export function awsAccountOf(f: PresentedFinding): string | null {
  if (!isAws(f)) return null;
  return f.account?.id ?? f.source ?? null;
}

/** The partition of an ARN (`arn:aws-us-gov:…` → aws-us-gov), else of a region name. */
export function partitionOf(arn: string | null, region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  const p = arn?.startsWith('arn:') ? arn.split(':')[1] : undefined;
  if (p === 'aws' || p === 'aws-cn' || p === 'aws-us-gov') return p;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** Every standard × control pair of a finding, sorted (the union of its policies' `metadata.controls`). */
export function controlPairs(f: Pick<Finding, 'controls'>): [standard: string, control: string][] {
  return Object.entries(f.controls)
    .flatMap(([std, ids]) => [...new Set(ids)].map((id): [string, string] => [std, id]))
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
}

/** When the finding last changed: resolved, else last seen. */
export const updatedAt = (f: Pick<Finding, 'resolvedAt' | 'lastSeen'>): string => f.resolvedAt ?? f.lastSeen;

export const ms = (iso: string): number => Date.parse(iso);

/** The policy's description, else its name, as a finding's title. */
export function titleOf(f: Pick<Finding, 'policy'>, policies: ReadonlyMap<string, ExportPolicy>): string {
  return policies.get(f.policy)?.description || f.policy;
}

/** Cut to `max` characters (an ellipsis marks the cut). */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
