/**
 * The node-vault client factory (main.ts calls it; nothing else constructs Vault clients).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import nodeVault from 'node-vault';
import type { VaultClusterConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import type { VaultHttp } from './api.js';

/**
 * A node-vault client for one cluster. Only `request` is ever used (see sources/vault/api.ts):
 * lists as GET ?list=true, the namespace header per request, never a token-replacing helper.
 */
export function realVaultHttp(c: VaultClusterConfig): VaultHttp & { close(): void } {
  let ca: Buffer | undefined;
  if (c.tls?.caFile) {
    try {
      ca = readFileSync(c.tls.caFile);
    } catch (err) {
      throw new CwError(
        ErrorCodes.CONFIG,
        `vault ${c.name}: tls.caFile ${c.tls.caFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  const client = nodeVault({
    endpoint: c.address,
    token: c.token,
    noCustomHTTPVerbs: true,
    requestOptions: { timeout: c.requestTimeoutMs },
  });
  // node-vault would otherwise stamp VAULT_NAMESPACE over every per-request namespace header.
  (client as { namespace?: string }).namespace = undefined;
  // Keep-alive agents sized to the lookup concurrency: a scan of 10,000 tokens is 10,000 requests.
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: c.concurrency });
  const httpsAgent = new HttpsAgent({
    keepAlive: true,
    maxSockets: c.concurrency,
    rejectUnauthorized: c.tls?.rejectUnauthorized ?? true,
    ...(ca ? { ca } : {}),
  });
  return {
    request: (o) => client.request({ ...o, httpAgent, httpsAgent } as Parameters<typeof client.request>[0]),
    close: () => {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
