/**
 * Vault drills, in the ONE drill cluster and namespace, under names that carry the drill id:
 *
 * - unregistered-secret-id: a policy granting every capability but sudo on every path, an AppRole
 *   role with it that no agent claims, and one secret ID (metadata names the drill);
 * - stale-token: a policy with sudo, and a periodic orphan token holding it with no explicit max
 *   TTL (it renews forever);
 * - runaway: a narrow policy, a role, and a burst of secret IDs on it (more than the burst rule's
 *   count).
 *
 * Removal: each recorded secret ID and token by accessor, then any secret ID left on the drill's
 * role (one whose accessor a crash kept from being recorded), the role, and the policy. A token a
 * crash kept from being recorded holds only the drill's policy, which is deleted: it is left with
 * no rights. Secrets (secret IDs, tokens) are dropped at once: nothing reads or stores them.
 */
import { CwError, ErrorCodes } from '../errors.js';
import { vaultAppRoleId, vaultNamespaceSegment, vaultSecretIdId, vaultTokenId } from '../model/ids.js';
import type { VaultApi } from '../sources/vault/api.js';
import type { PlantContext, Planter, Removal } from './planter.js';
import type { PlantedResource } from './store.js';

const BROAD = 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list"]\n}\n';
const SUDO = 'path "sys/auth/*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n';
const NARROW = 'path "secret/data/credwarden-drill/*" {\n  capabilities = ["read"]\n}\n';

export class VaultDrillPlanter implements Planter {
  constructor(
    private readonly api: VaultApi,
    private readonly cluster: string,
    private readonly ns: string,
    private readonly mount: string,
    /** How many secret IDs the runaway drill mints. */
    private readonly burst: number,
  ) {}

  private get source() {
    return `${this.cluster}/${vaultNamespaceSegment(this.ns)}`;
  }

  async plant(ctx: PlantContext): Promise<void> {
    const name = ctx.look.vault.name;
    const { api, ns } = this;
    const src = this.source;
    const hcl = ctx.scenario === 'stale-token' ? SUDO : ctx.scenario === 'runaway' ? NARROW : BROAD;
    await ctx.intent([{ kind: 'vault-policy', id: name, source: src }]);
    await api.write('drill:policy', ns, `sys/policies/acl/${name}`, { policy: hcl }, 'update on sys/policies/acl/*');
    if (ctx.scenario === 'stale-token') return this.token(ctx, name);
    const role = `auth/${this.mount}/role/${name}`;
    await ctx.intent([{ kind: 'vault-approle-role', id: name, source: src, parent: this.mount }]);
    await api.write(
      'drill:role',
      ns,
      role,
      { token_policies: [name], secret_id_ttl: 0, token_ttl: '1h' },
      `update on ${role}`,
    );
    await ctx.planted([
      {
        kind: 'vault-approle-role',
        id: name,
        source: src,
        parent: this.mount,
        credentialId: vaultAppRoleId(this.cluster, ns, this.mount, name),
      },
    ]);
    const count = ctx.scenario === 'runaway' ? this.burst : 1;
    const metadata = JSON.stringify(ctx.look.vault.meta);
    for (let i = 0; i < count; i++) {
      const out = await api.write(
        'drill:secret-id',
        ns,
        `${role}/secret-id`,
        { metadata },
        `update on ${role}/secret-id`,
      );
      const accessor = String(out?.data?.secret_id_accessor ?? '');
      if (!accessor)
        throw new CwError(ErrorCodes.VAULT, `vault ${this.cluster}: ${role}/secret-id returned no accessor`);
      await ctx.planted([
        {
          kind: 'vault-secret-id',
          id: accessor,
          source: src,
          parent: name,
          credentialId: vaultSecretIdId(this.cluster, ns, this.mount, name, accessor),
        },
      ]);
    }
  }

  private async token(ctx: PlantContext, policy: string): Promise<void> {
    await ctx.intent([{ kind: 'vault-token', id: '*', source: this.source, parent: policy }]);
    const out = await this.api.write(
      'drill:token',
      this.ns,
      'auth/token/create-orphan',
      {
        policies: [policy],
        no_default_policy: true,
        period: '768h',
        renewable: true,
        display_name: ctx.look.vault.displayName,
        meta: ctx.look.vault.meta,
      },
      'update and sudo on auth/token/create-orphan',
    );
    const accessor = String(out?.auth?.accessor ?? '');
    if (!accessor) throw new CwError(ErrorCodes.VAULT, `vault ${this.cluster}: create-orphan returned no accessor`);
    await ctx.planted([
      {
        kind: 'vault-token',
        id: accessor,
        source: this.source,
        parent: policy,
        credentialId: vaultTokenId(this.cluster, this.ns, accessor),
      },
    ]);
  }

  async remove(drillId: string, planted: readonly PlantedResource[], out: Removal): Promise<void> {
    const { api, ns } = this;
    const elsewhere = planted.filter((p) => p.source !== this.source);
    for (const p of elsewhere)
      out.failed.push({
        id: `${p.kind} ${p.id}`,
        error: `planted in ${p.source}, but the drill place is now ${this.source}: remove it by hand`,
      });
    const mine = planted.filter((p) => p.source === this.source);
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        out.removed.push(what);
      } catch (err) {
        out.failed.push({ id: what, error: (err as Error).message });
      }
    };
    const ours = (name: string) => name.includes(drillId);
    for (const t of mine.filter((p) => p.kind === 'vault-token' && p.id !== '*'))
      await step(`vault token ${t.id}`, () =>
        api.write(
          'drill:revoke',
          ns,
          'auth/token/revoke-accessor',
          { accessor: t.id },
          'update on auth/token/revoke-accessor',
        ),
      );
    // A role is in `planted` twice (its intent, then its planted record): remove it once.
    const roles = new Map(
      mine
        .filter((p) => p.kind === 'vault-approle-role' && ours(p.id))
        .map((p) => [`${p.parent ?? this.mount}/${p.id}`, p]),
    );
    for (const r of roles.values()) {
      const role = `auth/${r.parent ?? this.mount}/role/${r.id}`;
      let accessors: string[] = [];
      try {
        accessors = await api.list('drill:list-secret-ids', ns, `${role}/secret-id`, `list on ${role}/secret-id`);
      } catch (err) {
        out.failed.push({ id: `vault secret IDs of ${r.id}`, error: (err as Error).message });
      }
      for (const a of accessors) {
        try {
          await api.write(
            'drill:destroy-secret-id',
            ns,
            `${role}/secret-id-accessor/destroy`,
            { secret_id_accessor: a },
            `update on ${role}/secret-id-accessor/destroy`,
          );
          out.removed.push(`vault secret ID ${a}`);
        } catch (err) {
          // Remediation may destroy it between the list and here (OpenBao then answers 500
          // "failed to find accessor entry"): gone is gone, if the role no longer lists it.
          const still = await api
            .list('drill:list-secret-ids', ns, `${role}/secret-id`, `list on ${role}/secret-id`)
            .then((l) => l.includes(a))
            .catch(() => true);
          if (still) out.failed.push({ id: `vault secret ID ${a}`, error: (err as Error).message });
          else out.gone.push(`vault secret ID ${a}`);
        }
      }
      await step(`vault approle role ${r.id}`, () => api.delete('drill:delete-role', ns, role, `delete on ${role}`));
    }
    for (const p of mine.filter((x) => x.kind === 'vault-policy' && ours(x.id)))
      await step(`vault policy ${p.id}`, () =>
        api.delete('drill:delete-policy', ns, `sys/policies/acl/${p.id}`, 'delete on sys/policies/acl/*'),
      );
  }
}
