/**
 * Loads credwarden.yaml: parse → reject literal secrets → resolve ${env:NAME} → validate → make
 * relative paths absolute (relative to the config file). Every failure is one CwError(CONFIG)
 * naming the file, line and key path.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { CwError, ErrorCodes } from '../errors.js';
import { INPUT_LIMITS } from '../limits.js';
import { resolveEnvRefs, WHOLE_REF } from './env-refs.js';
import { rawRedisUrlProblem, resolvedRedisUrlProblem, resolveRedisUrl } from './redis-url.js';
import { type Config, ConfigSchema, SECRET_KEY_PATHS } from './schema.js';
import { located, parseYamlText, readYaml, validate, type YamlSource } from './yaml-source.js';

export interface LoadedConfig extends Omit<Config, 'audit'> {
  /** `file` is always set once loaded (absolute). */
  audit: Config['audit'] & { file: string };
  /** Absolute path of the file the config came from. */
  configFile: string;
  /** Absolute path of the directory relative paths were resolved against. */
  baseDir: string;
}

const CODE = ErrorCodes.CONFIG;
const ENV_REF_FORM = '$' + '{env:NAME}';

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  return fromSource(await readYaml(file, CODE, INPUT_LIMITS.configFileBytes), env);
}

export function loadConfigText(file: string, text: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return fromSource(parseYamlText(file, text, CODE, INPUT_LIMITS.configFileBytes), env);
}

function getIn(value: unknown, path: (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function fromSource(src: YamlSource, env: NodeJS.ProcessEnv): LoadedConfig {
  if (src.value === null || typeof src.value !== 'object' || Array.isArray(src.value)) {
    throw new CwError(CODE, `${src.file}: must be a YAML mapping`);
  }
  for (const pathsOf of SECRET_KEY_PATHS) {
    for (const path of pathsOf(src.value)) {
      const raw = getIn(src.value, path);
      if (raw !== undefined && !(typeof raw === 'string' && WHOLE_REF.test(raw))) {
        throw new CwError(
          CODE,
          located(src, path, `must be an ${ENV_REF_FORM} reference; secrets are never written into config files`),
        );
      }
    }
  }
  // evidence.signingKey is a path or an env reference to PEM: PEM text written in the file is refused.
  const signingKey = getIn(src.value, ['evidence', 'signingKey']);
  if (typeof signingKey === 'string' && !WHOLE_REF.test(signingKey) && signingKey.includes('PRIVATE KEY'))
    throw new CwError(
      CODE,
      located(
        src,
        ['evidence', 'signingKey'],
        `must be a path to the key file or an ${ENV_REF_FORM} reference; a private key is never written into config files`,
      ),
    );
  // `redis.url` and every `redis.nodes` entry (cluster seeds) follow the same URL and secret rules.
  const nodes = getIn(src.value, ['redis', 'nodes']);
  const urlPaths: (string | number)[][] = [
    ['redis', 'url'],
    ...(Array.isArray(nodes) ? nodes.map((_n, i) => ['redis', 'nodes', i]) : []),
  ];
  const rawUrls = urlPaths.map((path) => ({ path, raw: getIn(src.value, path) }));
  for (const { path, raw } of rawUrls) {
    const rawProblem = typeof raw === 'string' ? rawRedisUrlProblem(raw) : null;
    if (rawProblem) throw new CwError(CODE, located(src, path, rawProblem));
  }
  const { value, missing } = resolveEnvRefs(src.value, env);
  const first = missing[0];
  if (first) {
    throw new CwError(CODE, located(src, first.path, `environment variable ${first.name} is not set`));
  }
  for (const { path, raw } of rawUrls) {
    const parent = getIn(value, path.slice(0, -1));
    if (typeof raw === 'string' && parent && typeof parent === 'object')
      (parent as Record<string | number, unknown>)[path.at(-1)!] = resolveRedisUrl(raw, env);
  }
  const config = validate({ ...src, value }, ConfigSchema, CODE);
  for (const path of urlPaths) {
    const resolved = getIn(config, path);
    const resolvedProblem = typeof resolved === 'string' ? resolvedRedisUrlProblem(resolved) : null;
    if (resolvedProblem) throw new CwError(CODE, located(src, path, resolvedProblem));
  }
  const configFile = resolve(src.file);
  const baseDir = dirname(configFile);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    registry: abs(config.registry),
    ...(config.policies ? { policies: config.policies.map(abs) } : {}),
    audit: { ...config.audit, file: abs(config.audit.file ?? `.cw/${config.redis.prefix}.audit.jsonl`) },
    configFile,
    baseDir,
  };
}
