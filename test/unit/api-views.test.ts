/**
 * The read routes' snapshots (src/api/views.ts): one Redis read serves every request while the
 * audit head stays put and the snapshot is younger than maxAgeMs; a new audit event, or age,
 * makes the next request read again; concurrent requests share one read; a read begun before a
 * write is not what a request after the write gets.
 */
import { describe, expect, it } from 'vitest';
import { ApiViews } from '../../src/api/views.js';
import type { Finding } from '../../src/model/finding.js';

function fakeApp() {
  const state = { seq: 1, reads: 0, findings: [] as Partial<Finding>[], gate: null as Promise<void> | null };
  const app = {
    audit: { head: async () => ({ seq: state.seq, hash: 'h' }) },
    findings: {
      all: async () => {
        state.reads++;
        const snapshot = state.findings.map((f) => ({ ...f }));
        if (state.gate) await state.gate;
        return snapshot as Finding[];
      },
    },
    scans: { currentInventory: async () => [] },
    remediation: { list: async () => [] },
  };
  return { state, app: app as unknown as ConstructorParameters<typeof ApiViews>[0] };
}

const f = (fingerprint: string, severity: Finding['severity'], credentialId = 'c1'): Partial<Finding> => ({
  fingerprint,
  severity,
  credentialId,
  state: 'open',
});

describe('ApiViews', () => {
  it('serves one read while the audit head is unchanged; sorted most severe first and indexed by credential', async () => {
    const { state, app } = fakeApp();
    let now = 0;
    const views = new ApiViews(app, 5000, () => now);
    state.findings = [f('b', 'low'), f('a', 'critical', 'c2'), f('c', 'critical')];
    const first = await views.findings();
    expect(first.sorted.map((x) => x.fingerprint)).toEqual(['a', 'c', 'b']);
    expect(first.byCredential.get('c1')!.map((x) => x.fingerprint)).toEqual(['c', 'b']);
    now = 4999;
    await views.findings();
    expect(state.reads).toBe(1);
    state.seq = 2; // an audited change
    state.findings.push(f('d', 'high'));
    expect((await views.findings()).sorted).toHaveLength(4);
    expect(state.reads).toBe(2);
    now = 4999 + 5000; // too old, the head unchanged: served at once, a new read begun behind it
    state.findings.push(f('e', 'low')); // an unaudited change
    expect((await views.findings()).sorted).toHaveLength(4);
    expect(state.reads).toBe(3);
    await new Promise((r) => setTimeout(r, 10));
    expect((await views.findings()).sorted).toHaveLength(5);
    expect(state.reads).toBe(3);
  });

  it('concurrent requests at one head share a read; a request after a write does not get a read begun before it', async () => {
    const { state, app } = fakeApp();
    const views = new ApiViews(app);
    let open!: () => void;
    state.gate = new Promise<void>((r) => {
      open = r;
    });
    state.findings = [f('a', 'low')];
    const before = [views.findings(), views.findings(), views.findings()];
    await new Promise((r) => setTimeout(r, 10));
    state.seq = 2;
    state.findings = [f('a', 'low'), f('b', 'high')];
    const after = views.findings();
    await new Promise((r) => setTimeout(r, 10));
    open();
    const got = await Promise.all(before);
    expect(got.map((v) => v.sorted.length)).toEqual([1, 1, 1]);
    expect((await after).sorted.map((x) => x.fingerprint)).toEqual(['b', 'a']);
    expect(state.reads).toBe(2);
    // The newer snapshot is kept: the next request at head 2 reads nothing.
    state.gate = null;
    await views.findings();
    expect(state.reads).toBe(2);
  });
});
