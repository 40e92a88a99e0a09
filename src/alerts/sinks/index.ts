/**
 * The sink factory: a validated SinkConfig (secrets already resolved) in, a Sink out. `fetch` and
 * `now` are injectable so tests and the delivery worker's harness control the network and the
 * clock; production passes nothing.
 */
import type { Sink } from '../types.js';
import type { SinkConfig } from './config.js';
import { PagerDutySink } from './pagerduty.sink.js';
import { SlackSink } from './slack.sink.js';
import { WebhookSink } from './webhook.sink.js';

export interface SinkDeps {
  fetch?: typeof fetch;
  now?: () => Date;
  /** Slack: Approve and Deny buttons on actions awaiting approval (when `api.slack` is set). */
  approvalButtons?: boolean;
}

export function createSink(cfg: SinkConfig, deps: SinkDeps = {}): Sink {
  const fetchImpl = deps.fetch ?? fetch;
  switch (cfg.type) {
    case 'pagerduty':
      return new PagerDutySink(cfg, fetchImpl);
    case 'slack':
      return new SlackSink(cfg, fetchImpl, { approvalButtons: deps.approvalButtons ?? false });
    case 'webhook':
      return new WebhookSink(cfg, fetchImpl, deps.now);
  }
}

export { SECRET_SINK_FIELDS, type SinkConfig, SinkConfigSchema } from './config.js';
