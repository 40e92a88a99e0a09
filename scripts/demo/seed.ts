/** `tsx scripts/demo/seed.ts <moto endpoint>`: reset moto and seed the demo estate. */
import { seedDemoAws } from './seed-aws.js';

const endpoint = process.argv[2];
if (!endpoint) {
  console.error('usage: seed.ts <moto endpoint>');
  process.exit(2);
}
const reset = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
if (!reset.ok) {
  console.error(`demo: cannot reset moto at ${endpoint}: HTTP ${reset.status}`);
  process.exit(2);
}
await seedDemoAws(endpoint);
console.error(
  'demo: seeded AWS estate into moto (accounts 111111111111 prod, 222222222222 staging, 333333333333 sandbox)',
);
