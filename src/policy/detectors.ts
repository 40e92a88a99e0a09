/** Detector families, shared by scoring and alerting so they never disagree on what "privilege" means. */
export const PRIVILEGE_DETECTORS: ReadonlySet<string> = new Set([
  'admin',
  'privesc',
  'credential-exposure',
  'resource-exposure',
  'data-read',
  'boundary-held-admin',
  'service-wildcard',
  'not-action',
  'trust',
  'confused-deputy',
  'scope',
  'vault-root',
  'vault-sudo',
  'vault-audit-sudo',
  'vault-glob',
  'vault-sensitive-write',
  'vault-token-create-sudo',
  'vault-secret-id-mint',
  'vault-data-read',
]);

export const STALENESS_DETECTORS: ReadonlySet<string> = new Set([
  'age',
  'unused',
  'never-used',
  'rotation',
  'never-expires',
  'inactive',
]);

/** Runaway agents (policy/runaway.ts): credential bursts and grant surges. They page (alerts `runaway`). */
export const RUNAWAY_DETECTORS: ReadonlySet<string> = new Set(['runaway']);
