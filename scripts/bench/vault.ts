/**
 * Vault inventory benchmark: N service tokens in the Vault double, one discovery of the namespace
 * through node-vault, the requests per credential and the wall time. A measurement; asserts nothing.
 */
import { systemClock } from '../../src/clock.js';
import { VaultClusterSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { realVaultHttp } from '../../src/main.js';
import { VaultSource } from '../../src/sources/vault/vault.source.js';
import { scannerPolicy } from '../../test/fixtures/vault-estate.js';
import { startVaultDouble } from '../../test/support/vault-double/index.js';

export async function benchVault(tokens: number, concurrency: number): Promise<void> {
  const double = await startVaultDouble();
  try {
    double.putPolicy('', 'credwarden-scanner', scannerPolicy());
    double.putPolicy('', 'agent', 'path "secret/data/agents/*" { capabilities = ["read"] }');
    const scanner = double.createToken({ policies: ['credwarden-scanner'], displayName: 'credwarden', ttl: '768h' });
    const t0 = performance.now();
    for (let i = 0; i < tokens; i++)
      double.createToken({
        policies: ['agent'],
        displayName: `agent-${i}`,
        ttl: '720h',
        meta: { agent: `agent-${i % 50}` },
      });
    const seedMs = performance.now() - t0;
    const cluster = VaultClusterSchema.parse({
      name: 'bench',
      address: double.address,
      token: scanner.token,
      approleMounts: [],
      concurrency,
    });
    // The production client: node-vault with keep-alive agents, as main.ts builds it.
    const http = realVaultHttp(cluster);
    const source = new VaultSource([cluster], () => http);
    const registry = {
      agents: [],
      unregistered: {
        aws: { tags: {}, namePatterns: [] },
        vault: { meta: ['agent'], displayNamePatterns: [], policyPatterns: [] },
      },
    };
    double.clearRequestLog();
    const t1 = performance.now();
    const result = await source.discover('vault/bench/root', {
      clock: systemClock,
      log: createLogger({ level: 'warn' }),
      registry,
    });
    const ms = performance.now() - t1;
    const creds = result.credentials.length;
    console.log(`vault tokens seeded:      ${tokens} (+ root and credwarden's own)`);
    console.log(`credentials found:        ${creds}`);
    console.log(`requests (counted):       ${result.apiCalls.total}; seen by the double: ${double.requestLog.length}`);
    console.log(`  by operation:           ${JSON.stringify(result.apiCalls.byOperation)}`);
    console.log(`requests per credential:  ${(result.apiCalls.total / creds).toFixed(4)}`);
    console.log(
      `discovery wall time:      ${(ms / 1000).toFixed(2)} s (concurrency ${concurrency}; ${Math.round(creds / (ms / 1000))} credentials/s)`,
    );
    console.log(`seeding wall time:        ${(seedMs / 1000).toFixed(2)} s (in-process)`);
    console.log(`problems:                 ${result.problems.length ? JSON.stringify(result.problems) : 'none'}`);
    http.close();
  } finally {
    await double.close();
  }
}
