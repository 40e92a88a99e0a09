/**
 * Size limits on everything credwarden parses, in one place (the README's configuration section
 * lists them). A file over its limit is refused after a stat, before it is read; a cloud document
 * over its limit is a problem for the principal that carries it, never a crash.
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export const INPUT_LIMITS = {
  /** credwarden.yaml, in bytes. */
  configFileBytes: 1 * MiB,
  /** agents.yaml, in bytes. */
  registryFileBytes: 16 * MiB,
  /** Each policy file (and each `*.test.yaml` policy test file), in bytes. */
  policyFileBytes: 1 * MiB,
  /** Alias expansions per YAML anchor (the `yaml` package's maxAliasCount): stops "billion laughs". */
  yamlMaxAliasCount: 100,
  /** A decoded IAM policy document, in characters (AWS's own maximum is 10,240). */
  awsPolicyDocumentChars: 128 * KiB,
  /** A Vault ACL policy's text, in characters. */
  vaultPolicyChars: 1 * MiB,
} as const;

/** `1048576 bytes (1 MiB)`, for error messages. */
export function describeBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n} bytes (${n / MiB} MiB)`;
  if (n >= MiB) return `${n} bytes (${(n / MiB).toFixed(1)} MiB)`;
  if (n >= KiB && n % KiB === 0) return `${n} bytes (${n / KiB} KiB)`;
  return `${n} bytes`;
}
