/**
 * AwsPrivilegeAnalyzer: the entry point for AWS privilege analysis, shared by every rule through
 * RuleContext.services. `permissionSet(grants)` evaluates a grant list once: by array identity
 * (the same credential seen by several rules) and then by the sha1 of the canonical statements
 * (every credential of a principal, every agent sharing policies). The key cache is LRU-bounded so
 * a large estate cannot grow it without limit. Grant arrays are treated as immutable, as credential
 * records are: mutating one after analysis would leave the identity cache stale. Detector methods take the whole credential because
 * some (admin, trust) depend on who the principal is, not just on its grants.
 */
import type { Credential, Grant } from '../model/credential.js';
import {
  type ConfusedDeputyOptions,
  detectAdmin,
  detectBoundaryHeldAdmin,
  detectConfusedDeputy,
  detectCredentialExposure,
  detectDataRead,
  detectDirectUserPolicies,
  detectNotActionAllow,
  detectPrivesc,
  detectResourceExposure,
  detectRoleTrust,
  detectServiceWildcards,
  detectUnknownActions,
  type TrustOptions,
} from './aws-detectors.js';
import { AwsPermissionSet } from './aws-effective.js';
import { type ActionCatalog, defaultCatalog } from './catalog.js';
import { awsGrantsKey, awsStatements } from './statement.js';
import type { DetectorResult } from './types.js';

export interface AnalyzerStats {
  /** Permission sets evaluated (cache misses). */
  builds: number;
  /** Lookups answered from the identity or key cache. */
  hits: number;
}

export class AwsPrivilegeAnalyzer {
  readonly stats: AnalyzerStats = { builds: 0, hits: 0 };
  private readonly byArray = new WeakMap<readonly Grant[], AwsPermissionSet>();
  private readonly byKey = new Map<string, AwsPermissionSet>();

  constructor(
    readonly catalog: ActionCatalog = defaultCatalog(),
    private readonly maxCachedSets = 5_000,
  ) {}

  /** The effective set of the AWS statements in `grants` (Vault grants are ignored). */
  permissionSet(grants: readonly Grant[]): AwsPermissionSet {
    const known = this.byArray.get(grants);
    if (known) {
      this.stats.hits++;
      return known;
    }
    const statements = awsStatements(grants);
    const key = awsGrantsKey(statements);
    let set = this.byKey.get(key);
    if (set) {
      this.stats.hits++;
      // Refresh recency: Map iteration order is insertion order, so the first key is the oldest.
      this.byKey.delete(key);
    } else {
      this.stats.builds++;
      set = AwsPermissionSet.build(key, this.catalog, statements);
      if (this.byKey.size >= this.maxCachedSets) this.byKey.delete(this.byKey.keys().next().value!);
    }
    this.byKey.set(key, set);
    this.byArray.set(grants, set);
    return set;
  }

  admin(cred: Credential): DetectorResult[] {
    return detectAdmin(this.permissionSet(cred.grants), cred);
  }

  privilegeEscalation(cred: Credential, methods?: readonly string[]): DetectorResult[] {
    return detectPrivesc(this.permissionSet(cred.grants), methods);
  }

  credentialExposure(cred: Credential): DetectorResult[] {
    return detectCredentialExposure(this.permissionSet(cred.grants));
  }

  resourceExposure(cred: Credential): DetectorResult[] {
    return detectResourceExposure(this.permissionSet(cred.grants), this.catalog);
  }

  serviceWildcards(cred: Credential): DetectorResult[] {
    return detectServiceWildcards(this.permissionSet(cred.grants), this.catalog);
  }

  /** Unconstrained reads of secrets and data (curated list, see data-access.ts). */
  dataRead(cred: Credential): DetectorResult[] {
    return detectDataRead(this.permissionSet(cred.grants), this.catalog);
  }

  /** `*` on `*` held back only by a permissions boundary (the latent admin; see aws-star.ts). */
  boundaryHeldAdmin(cred: Credential): DetectorResult[] {
    return detectBoundaryHeldAdmin(this.permissionSet(cred.grants), cred, this.catalog);
  }

  /** Policies attached to a user directly rather than through a group; [] for non-user kinds. */
  directUserPolicies(cred: Credential): DetectorResult[] {
    return detectDirectUserPolicies(this.permissionSet(cred.grants), cred);
  }

  notActionAllow(cred: Credential): DetectorResult[] {
    return detectNotActionAllow(this.permissionSet(cred.grants), this.catalog);
  }

  unknownActions(cred: Credential): DetectorResult[] {
    return detectUnknownActions(this.permissionSet(cred.grants), this.catalog);
  }

  /** Only meaningful for `aws-role` records (their trust policy); [] for anything else. */
  roleTrust(cred: Credential, opts?: TrustOptions): DetectorResult[] {
    return cred.kind === 'aws-role' ? detectRoleTrust(cred, opts) : [];
  }

  /** Service principals trusted without a source condition; `aws-role` records only. */
  confusedDeputy(cred: Credential, opts?: ConfusedDeputyOptions): DetectorResult[] {
    return cred.kind === 'aws-role' ? detectConfusedDeputy(cred, opts) : [];
  }

  /** Every AWS detector, default options: what a full privilege scan of one credential costs. */
  all(cred: Credential): DetectorResult[] {
    return [
      ...this.admin(cred),
      ...this.privilegeEscalation(cred),
      ...this.credentialExposure(cred),
      ...this.resourceExposure(cred),
      ...this.serviceWildcards(cred),
      ...this.notActionAllow(cred),
      ...this.unknownActions(cred),
      ...this.dataRead(cred),
      ...this.boundaryHeldAdmin(cred),
      ...this.directUserPolicies(cred),
      ...this.roleTrust(cred),
      ...this.confusedDeputy(cred),
    ];
  }
}
