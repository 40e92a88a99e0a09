/**
 * Command-line flags for the measurement scripts: `--name value`, one clear error naming the flag
 * and exit 2 on a bad value (the project's rule for bad input).
 */
export function cliFlags(script: string) {
  const fail = (msg: string): never => {
    console.error(`${script}: ${msg}`);
    process.exit(2);
  };
  const flag = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    if (i === -1) return undefined;
    const val = process.argv[i + 1];
    if (val === undefined || val.startsWith('--')) fail(`--${name} needs a value`);
    return val;
  };
  const intFlag = (name: string, fallback: number, min = 0): number => {
    const raw = flag(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) fail(`--${name} needs an integer >= ${min}, got "${raw}"`);
    return n;
  };
  return { fail, flag, intFlag };
}
