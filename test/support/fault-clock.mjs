/**
 * Preload for credwarden child processes (`node --import <this> dist/src/cli/main.js …`): moves
 * credwarden's clock (`systemClock` in dist/src/clock.js, what buildApp uses when no clock is
 * given) CW_FAULT_CLOCK_OFFSET_MS ahead of the wall clock. Only credwarden's notion of "now"
 * moves (evaluation, live re-check, audit times); Node's Date, BullMQ, ioredis and the AWS SDK
 * keep the real time. The same idea as test/support/remediation-env.ts's ManualClock ahead of
 * real time, for processes started from dist/: moto stamps keys with the real time, and the clock
 * ahead makes them old enough for `never-used`.
 */
import { systemClock } from '../../dist/src/clock.js';

const offset = Number(process.env.CW_FAULT_CLOCK_OFFSET_MS ?? '0');
if (!Number.isFinite(offset))
  throw new Error(`CW_FAULT_CLOCK_OFFSET_MS is not a number: ${process.env.CW_FAULT_CLOCK_OFFSET_MS}`);
if (offset !== 0) systemClock.now = () => new Date(Date.now() + offset);
