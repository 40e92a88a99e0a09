/**
 * The Source contract (src/sources/source.ts), as one suite every source must pass against a real
 * backend: AWS IAM over moto, Vault over OpenBao (source.test.ts). What it holds a source to:
 * - units: unique keys; every credential a unit yields has an id under that unit's key, and
 *   every complete prefix it reports is under it too; ids are unique across units;
 * - discover is deterministic: a second discover of an unchanged estate yields the same ids and
 *   the same grant signatures;
 * - records carry no secret the fixture planted (secret access keys, tokens, secret IDs);
 * - owns(): true for every id the source yields, false for another source's ids;
 * - recheck(id) of every discovered credential is `present` and agrees with the scan on the
 *   identity and the facts remediation re-checks (kind, principal, status, grants, attribution);
 * - after the fixture removes a credential in the backend, recheck says `absent` (never
 *   `unknown`, never a throw), and so does an id that never existed under a real unit;
 * - recheck of an id the source does not own throws CwError INPUT.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { Registry } from '../../src/model/agent.js';
import { type Credential, grantSignatures } from '../../src/model/credential.js';
import type { RecheckResult, Source, UnitResult } from '../../src/sources/source.js';

export interface ContractEstate {
  source: Source;
  registry: Registry;
  /** Credentials the fixture can remove in the backend; each `remove` deletes exactly that one. */
  removable: { id: string; remove(): Promise<void> }[];
  /** Well-formed ids under a real unit that name nothing in the backend. */
  neverExisted: string[];
  /** Ids another source owns (or no source does). */
  foreign: string[];
  /** Secret values planted in the backend that must never appear in any record. */
  secrets: string[];
  /** Kinds the estate is known to hold (the suite asserts each was found). */
  kinds: Credential['kind'][];
}

const log = createLogger({ level: 'silent' });
const ctx = (registry: Registry) => ({ clock: systemClock, log, registry });

/** What the scan and a live re-read must agree on. */
export function facts(c: Credential) {
  return {
    id: c.id,
    kind: c.kind,
    sourceType: c.sourceType,
    source: c.source,
    principal: c.principal,
    status: c.status,
    agentId: c.agentId,
    owner: c.owner,
    unregisteredAgent: c.unregisteredAgent,
    createdAt: c.createdAt,
    expiresAt: c.expiresAt,
    grants: grantSignatures(c.grants),
    tags: c.tags,
  };
}

async function discoverAll(source: Source, registry: Registry): Promise<UnitResult[]> {
  const out: UnitResult[] = [];
  for (const u of source.units()) out.push(await source.discover(u.key, ctx(registry)));
  return out;
}

export function sourceContract(name: string, setup: () => Promise<ContractEstate>): void {
  describe(`Source contract: ${name}`, () => {
    let estate: ContractEstate;
    let first: UnitResult[];
    const all = () => first.flatMap((r) => r.credentials);

    it('units have unique keys; each unit yields only ids and complete prefixes under its own key', async () => {
      estate = await setup();
      const units = estate.source.units();
      expect(units.length).toBeGreaterThan(0);
      expect(new Set(units.map((u) => u.key)).size).toBe(units.length);
      for (const u of units) expect(u.sourceType).toBe(estate.source.type);
      first = await discoverAll(estate.source, estate.registry);
      for (const r of first) {
        expect(r.problems, `${r.unit.key} scanned fully`).toEqual([]);
        for (const c of r.credentials) expect(c.id.startsWith(`${r.unit.key}/`), c.id).toBe(true);
        for (const p of r.completePrefixes) expect(p.startsWith(`${r.unit.key}/`), p).toBe(true);
        expect(r.apiCalls.total).toBeGreaterThan(0);
      }
      const ids = all().map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...new Set(all().map((c) => c.kind))].sort()).toEqual(expect.arrayContaining(estate.kinds));
      for (const c of all()) expect(c.sourceType).toBe(estate.source.type);
    });

    it('discover is deterministic over an unchanged estate', async () => {
      const again = (await discoverAll(estate.source, estate.registry)).flatMap((r) => r.credentials);
      const sig = (cs: Credential[]) =>
        Object.fromEntries(cs.map((c) => [c.id, grantSignatures(c.grants)])) as Record<string, string[]>;
      expect(sig(again)).toEqual(sig(all()));
    });

    it('no record carries a secret planted in the backend', () => {
      expect(estate.secrets.length).toBeGreaterThan(0);
      const text = JSON.stringify(all());
      for (const s of estate.secrets) expect(text.includes(s), 'a planted secret leaked into a record').toBe(false);
    });

    it('owns every id it yields and no foreign id', () => {
      for (const c of all()) expect(estate.source.owns(c.id), c.id).toBe(true);
      for (const id of estate.foreign) expect(estate.source.owns(id), id).toBe(false);
    });

    it('recheck of every discovered credential is present and agrees with the scan', async () => {
      for (const c of all()) {
        if (c.kind === 'aws-root-access-key') continue; // visible only in the credential report
        const r: RecheckResult = await estate.source.recheck(c.id, ctx(estate.registry));
        expect(r.state, `${c.id}: ${r.state === 'present' ? '' : JSON.stringify(r)}`).toBe('present');
        if (r.state !== 'present') continue;
        expect(facts(r.credential)).toEqual(facts(c));
        expect(Number.isNaN(Date.parse(r.checkedAt))).toBe(false);
        expect(r.apiCalls.total).toBeGreaterThan(0);
        const text = JSON.stringify(r.credential);
        for (const s of estate.secrets) expect(text.includes(s)).toBe(false);
      }
    });

    it('an id that never existed under a real unit is absent', async () => {
      expect(estate.neverExisted.length).toBeGreaterThan(0);
      for (const id of estate.neverExisted) {
        expect(estate.source.owns(id), id).toBe(true);
        const r = await estate.source.recheck(id, ctx(estate.registry));
        expect(r.state, `${id}: ${JSON.stringify(r)}`).toBe('absent');
      }
    });

    it('a credential removed in the backend is absent on recheck, and the next discover no longer yields it', async () => {
      expect(estate.removable.length).toBeGreaterThan(0);
      for (const r of estate.removable) {
        expect(
          all().some((c) => c.id === r.id),
          `${r.id} was discovered`,
        ).toBe(true);
        await r.remove();
        const after = await estate.source.recheck(r.id, ctx(estate.registry));
        expect(after.state, `${r.id}: ${JSON.stringify(after)}`).toBe('absent');
        if (after.state === 'absent') expect(after.reason.length).toBeGreaterThan(0);
      }
      const ids = new Set(
        (await discoverAll(estate.source, estate.registry)).flatMap((u) => u.credentials.map((c) => c.id)),
      );
      for (const r of estate.removable) expect(ids.has(r.id), r.id).toBe(false);
    });

    it('recheck of a foreign or malformed id throws an INPUT error naming it', async () => {
      for (const id of [...estate.foreign, `${estate.source.type}/`, 'nonsense']) {
        const err = await estate.source.recheck(id, ctx(estate.registry)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, id).toBeInstanceOf(CwError);
        expect((err as CwError).code).toBe(ErrorCodes.INPUT);
        expect((err as CwError).message).toContain(id);
      }
    });
  });
}
