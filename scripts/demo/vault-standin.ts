/**
 * The demo's local Vault stand-in, used when VAULT_ADDR is not set: credwarden's own Vault test
 * double (test/support/vault-double: a stateful model of Vault's HTTP API, not a real Vault),
 * seeded over HTTP like a real one. Writes {address, scannerToken} to the file given as argv[2]
 * (mode 0600) once ready, then serves until killed.
 */
import { writeFileSync } from 'node:fs';
import { startVaultDouble } from '../../test/support/vault-double/index.js';
import { seedDemoVault } from './seed-vault.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: vault-standin.ts <ready-file>');
  process.exit(2);
}
const double = await startVaultDouble();
const { scannerToken, notes } = await seedDemoVault(double.address, double.rootToken);
for (const n of notes) console.error(`vault stand-in: ${n}`);
writeFileSync(out, JSON.stringify({ address: double.address, scannerToken }), { mode: 0o600 });
const stop = () => double.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
