/**
 * Vault detectors over a credential's ACL path grants (the Vault analog of the AWS set, reference
 * §7): the root policy; sudo anywhere; sudo on sys/audit*; mount-spanning or sys-wide globs; writes
 * on policy, auth, mount and identity endpoints and on auth roles; token creation with sudo;
 * AppRole secret-id minting; read over a whole mount (every secret in it, or in every mount).
 * Matching is on grant patterns with Vault's priority rules (see
 * vault-analysis.ts); results are memoised per distinct grant list, since they depend on nothing
 * else. Vault grants are certain (no conditions), so confidence is always "confirmed".
 */
import type { Credential, Grant } from '../model/credential.js';
import type { Severity } from '../model/finding.js';
import type { DetectorName, DetectorResult } from './types.js';
import { grantEvidence, type Reach, VaultAnalysis, vaultGrants, vaultGrantsKey, WRITE_CAPS } from './vault-analysis.js';
import { covers, spansMounts } from './vault-glob.js';

/** Sensitive write targets: a write here changes who can do what. */
export const SENSITIVE_WRITE_TARGETS: readonly { pattern: string; severity: Severity; what: string; sudo?: true }[] = [
  { pattern: 'sys/policy*', severity: 'critical', what: 'write ACL policies (legacy endpoint)' },
  { pattern: 'sys/policies/acl*', severity: 'critical', what: 'write ACL policies' },
  // sys/auth/* is root-protected (vault-api.md §0): a write there needs sudo as well.
  { pattern: 'sys/auth*', severity: 'high', what: 'enable, tune or disable auth methods', sudo: true },
  { pattern: 'sys/mounts*', severity: 'high', what: 'mount, tune or unmount secrets engines' },
  // The identity endpoints that change what a token can do: entities and groups carry policies.
  { pattern: 'identity/entity*', severity: 'high', what: 'edit entities (and the policies they carry)' },
  { pattern: 'identity/group*', severity: 'high', what: 'edit groups (joining a group grants its policies)' },
  // The role object itself (its token_policies); lookups under it (secret-id-accessor/lookup) are not edits.
  { pattern: 'auth/+/role/+', severity: 'high', what: 'create or edit auth roles (and the policies they grant)' },
  { pattern: 'auth/token/roles/*', severity: 'high', what: 'create or edit token roles (and the policies they allow)' },
];

export const SECRET_ID_TARGETS = ['auth/+/role/+/secret-id', 'auth/+/role/+/custom-secret-id'];

/**
 * Mounts probed for whole-mount reads even when no rule names them: the KV defaults (`secret/` in
 * dev servers and most docs, `kv/` for `vault secrets enable kv`). Mounts that rules name are
 * probed too; sys/, auth/, identity/ and cubbyhole/ (per token) hold no shared secrets.
 */
export const KV_MOUNTS = ['secret', 'kv'];
const NOT_DATA_MOUNTS = new Set(['sys', 'auth', 'identity', 'cubbyhole']);
const ANY = '\u0000';
/** Paths no literal rule can match: an arbitrary secret of mount `m`, KV v1 and v2, one and two levels deep. */
const arbitrarySecrets = (m: string): string[] => [
  `${m}/${ANY}`,
  `${m}/${ANY}/${ANY}`,
  `${m}/data/${ANY}`,
  `${m}/data/${ANY}/${ANY}`,
];

const result = (
  detector: DetectorName,
  severity: Severity,
  key: string,
  message: string,
  reaches: readonly Reach[],
): DetectorResult => ({
  detector,
  severity,
  confidence: 'confirmed',
  key,
  message,
  actions: reaches.flatMap((r) => r.caps.map((c) => `${r.rule.pattern}:${c}`)).sort(),
  evidence: reaches.flatMap((r) => r.rule.grants.map((g) => grantEvidence(g, `governs ${r.rule.pattern}`))),
});

const patterns = (rs: readonly Reach[]): string => rs.map((r) => `"${r.rule.pattern}"`).join(', ');

export class VaultPrivilegeAnalyzer {
  readonly stats = { builds: 0, hits: 0 };
  private readonly byArray = new WeakMap<readonly Grant[], VaultAnalysis>();
  private readonly byKey = new Map<string, VaultAnalysis>();

  constructor(private readonly maxCached = 5_000) {}

  analysis(grants: readonly Grant[]): VaultAnalysis {
    const known = this.byArray.get(grants);
    if (known) {
      this.stats.hits++;
      return known;
    }
    const vg = vaultGrants(grants);
    const key = vaultGrantsKey(vg);
    let a = this.byKey.get(key);
    if (a) {
      this.stats.hits++;
      this.byKey.delete(key);
    } else {
      this.stats.builds++;
      a = new VaultAnalysis(key, vg);
      if (this.byKey.size >= this.maxCached) this.byKey.delete(this.byKey.keys().next().value!);
    }
    this.byKey.set(key, a);
    this.byArray.set(grants, a);
    return a;
  }

  rootPolicy(cred: Credential): DetectorResult[] {
    return this.analysis(cred.grants).memo('root', () => {
      const roots = this.analysis(cred.grants).grants.filter((g) => g.capabilities.includes('root'));
      if (roots.length === 0) return [];
      return [
        {
          detector: 'vault-root',
          severity: 'critical',
          confidence: 'confirmed',
          key: 'root',
          message: 'carries the root policy: unrestricted access to all of Vault',
          actions: ['*:root'],
          evidence: roots.map((g) => grantEvidence(g)),
        } satisfies DetectorResult,
      ];
    });
  }

  /** One result per rule with sudo; critical when the rule spans all of sys/. */
  sudo(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('sudo', () =>
      a.rules
        .filter((r) => VaultAnalysis.granted(r.caps, ['sudo']).length > 0)
        .map((r) => {
          const wide = covers(r.pattern, 'sys/*');
          return result(
            'vault-sudo',
            wide ? 'critical' : 'high',
            r.pattern,
            `sudo (root-protected endpoints) on "${r.pattern}"${wide ? ', which covers all of sys/' : ''}${r.caps.has('root') ? ' via the root policy' : ''}`,
            [{ rule: r, caps: ['sudo'] }],
          );
        }),
    );
  }

  auditSudo(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('audit-sudo', () => {
      const rs = a.reach('sys/audit*', ['sudo']);
      if (rs.length === 0) return [];
      return [
        result(
          'vault-audit-sudo',
          'critical',
          'sys/audit',
          `can enable and disable audit devices (sudo on sys/audit* via ${patterns(rs)}): it can switch off the record of what it does`,
          rs,
        ),
      ];
    });
  }

  /** Rules spanning every mount (`*`, `+/*`, `s*`…) or all of sys/, with any capability but deny. */
  broadGlob(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('glob', () =>
      a.rules.flatMap((r) => {
        if (r.caps.has('deny') || r.caps.size === 0) return [];
        const mounts = spansMounts(r.pattern);
        const sys = !mounts && covers(r.pattern, 'sys/*');
        if (!mounts && !sys) return [];
        const caps = [...r.caps].sort();
        const writes = r.caps.has('root') || r.caps.has('sudo') || WRITE_CAPS.some((c) => r.caps.has(c));
        const where = mounts ? 'every mount' : 'all of sys/';
        return [
          result(
            'vault-glob',
            mounts && writes ? 'critical' : 'high',
            r.pattern,
            `glob "${r.pattern}" spans ${where} with [${caps.join(', ')}]`,
            [{ rule: r, caps }],
          ),
        ];
      }),
    );
  }

  sensitiveWrite(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('sensitive-write', () =>
      SENSITIVE_WRITE_TARGETS.flatMap((t) => {
        const rs = a.reach(t.pattern, WRITE_CAPS, t.sudo ? ['sudo'] : []);
        return rs.length
          ? [
              result(
                'vault-sensitive-write',
                t.severity,
                t.pattern,
                `can ${t.what} (write on ${t.pattern} via ${patterns(rs)})`,
                rs,
              ),
            ]
          : [];
      }),
    );
  }

  tokenCreateSudo(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('token-create-sudo', () => {
      const rs = a.reach('auth/token/create*', ['create', 'update'], ['sudo']);
      if (rs.length === 0) return [];
      return [
        result(
          'vault-token-create-sudo',
          'critical',
          'auth/token/create',
          `can create tokens with sudo on auth/token/create* (via ${patterns(rs)}): orphan tokens with policies it does not hold`,
          rs,
        ),
      ];
    });
  }

  secretIdMinting(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('secret-id-mint', () =>
      SECRET_ID_TARGETS.flatMap((t) => {
        const rs = a.reach(t, ['create', 'update']);
        return rs.length
          ? [
              result(
                'vault-secret-id-mint',
                'high',
                t,
                `can mint AppRole secret IDs (${t} via ${patterns(rs)}): new credentials for those roles`,
                rs,
              ),
            ]
          : [];
      }),
    );
  }

  /**
   * Read on every secret of a mount: the rule that governs an arbitrary secret path of the mount
   * (a path no literal rule can match, Vault priority applied) grants `read`, so nothing below the
   * mount root constrains it (`secret/*`, `secret/data/*`, `kv/+/*`, …). One result per mount
   * (key `<mount>/`), or one for every mount at once (key `*`: `*`, `+/*`, `+/data/*`), high.
   */
  dataRead(cred: Credential): DetectorResult[] {
    const a = this.analysis(cred.grants);
    return a.memo('data-read', () => {
      const mounts = new Set(KV_MOUNTS);
      for (const r of a.rules) {
        const first = r.pattern.split('/')[0] ?? '';
        if (r.pattern.includes('/') && first && first !== '+' && !first.includes('*') && !NOT_DATA_MOUNTS.has(first))
          mounts.add(first);
      }
      const seen = new Set<string>();
      const out: DetectorResult[] = [];
      for (const m of [ANY, ...[...mounts].sort()]) {
        const reaches: Reach[] = [];
        for (const path of arbitrarySecrets(m)) {
          const rule = a.ruleAt(path);
          if (!rule || seen.has(rule.pattern) || VaultAnalysis.granted(rule.caps, ['read']).length === 0) continue;
          seen.add(rule.pattern);
          reaches.push({ rule, caps: ['read'] });
        }
        if (reaches.length === 0) continue;
        const every = m === ANY;
        out.push(
          result(
            'vault-data-read',
            'high',
            every ? '*' : `${m}/`,
            every
              ? `can read every secret in every mount (read on ${patterns(reaches)})`
              : `can read every secret in mount "${m}/" (read on ${patterns(reaches)}): no path below the mount root constrains it`,
            reaches,
          ),
        );
      }
      return out;
    });
  }

  all(cred: Credential): DetectorResult[] {
    return [
      ...this.rootPolicy(cred),
      ...this.sudo(cred),
      ...this.auditSudo(cred),
      ...this.broadGlob(cred),
      ...this.sensitiveWrite(cred),
      ...this.tokenCreateSudo(cred),
      ...this.secretIdMinting(cred),
      ...this.dataRead(cred),
    ];
  }
}
