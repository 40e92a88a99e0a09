/**
 * The fault harness's audit replay (test/support/fault-replay.ts) must be able to fail: hand-made
 * event lists with a duplicated finding.opened, a credential added twice and other impossible
 * transitions are reported; a clean history is not; stored state that differs from the replay is.
 */
import { describe, expect, it } from 'vitest';
import { compareState, type ReplayEvent, type ReplayRule, replayAudit } from '../support/fault-replay.js';

const S = 'scan-1';
const KEY = 'aws/111111111111/access-key/AKIAFAKEFAKEFAKE0001';
const FP = `agent-admin-equivalent:${KEY}`;

function events(...list: Omit<ReplayEvent, 'seq'>[]): ReplayEvent[] {
  return list.map((e, i) => ({ ...e, seq: i + 1 }));
}
const started = (scanId = S) => ({ type: 'scan.started', subject: scanId, data: { trigger: 'cli' } });
const finished = (scanId = S) => ({ type: 'scan.finished', subject: scanId, data: { status: 'complete' } });
const added = (id = KEY, scanId = S) => ({ type: 'credential.added', subject: id, data: { scanId } });
const removed = (id = KEY, scanId = S) => ({ type: 'credential.removed', subject: id, data: { scanId } });
const finding = (type: string, scanId = S, fp = FP) => ({
  type: `finding.${type}`,
  subject: fp,
  data: { scanId, credentialId: KEY, severity: 'critical' },
});

describe(replayAudit.name, () => {
  it('accepts a clean history across scans', () => {
    const r = replayAudit(
      events(
        started(),
        added(),
        finished(),
        finding('opened'),
        started('scan-2'),
        finished('scan-2'),
        finding('resolved', 'scan-2'),
        started('scan-3'),
        finished('scan-3'),
        finding('reopened', 'scan-3'),
        finding('suppressed', 'scan-4-eval-only'),
      ),
    );
    expect(r.violations).toEqual([]);
    expect(r.state.credentials.has(KEY)).toBe(true);
    expect(r.state.findings.get(FP)?.state).toBe('suppressed');
  });

  it('reports a duplicated finding.opened and a credential added twice', () => {
    const r = replayAudit(events(started(), added(), added(), finished(), finding('opened'), finding('opened')));
    const details = r.violations.map((v) => v.detail);
    expect(details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^\[credential\] #3 credential\.added .*AKIAFAKEFAKEFAKE0001: already present \(added at #2\)/,
        ),
        expect.stringMatching(
          /^\[finding\] #6 finding\.opened agent-admin-equivalent:.*: not allowed from open \(since #5\)/,
        ),
        expect.stringMatching(
          /^\[finding\] #6 finding\.opened .*: a transition of this finding in this scan was already/,
        ),
      ]),
    );
    expect(r.violations.every((v) => v.check === 'replay')).toBe(true);
  });

  it('reports a duplicate even when the state machine would allow it (two transitions in one scan)', () => {
    const r = replayAudit(
      events(started(), added(), finished(), finding('opened'), finding('resolved'), finding('reopened')),
    );
    expect(r.violations.map((v) => v.detail)).toEqual([
      expect.stringMatching(
        /#5 finding\.resolved .*: a transition of this finding in this scan was already audited at #4/,
      ),
      expect.stringMatching(
        /#6 finding\.reopened .*: a transition of this finding in this scan was already audited at #4/,
      ),
    ]);
  });

  it('reports impossible transitions, scans started or finished twice or never, and lost seqs', () => {
    const list = events(
      started(),
      started(),
      removed('aws/111111111111/access-key/AKIAFAKEFAKEFAKE0404'),
      finished(),
      added(KEY, S),
      finding('resolved'),
      finding('unsuppressed', S, `x:${KEY}`),
      finished(),
      { type: 'exception.expired', subject: 'ex-1', data: {} },
      { type: 'exception.expired', subject: 'ex-1', data: {} },
      started('scan-9'),
    );
    list[10]!.seq = 13; // two events lost before it
    const details = replayAudit(list).violations.map((v) => v.detail);
    expect(details).toEqual([
      '[scan] #2 scan.started scan-1: already started at #1',
      '[credential] #3 credential.removed aws/111111111111/access-key/AKIAFAKEFAKEFAKE0404: no such credential in the replayed inventory',
      expect.stringMatching(/^\[credential\] #5 credential\.added .*: audited after its scan scan-1 finished \(#4\)/),
      expect.stringMatching(/^\[finding\] #6 finding\.resolved .*: not allowed from no finding/),
      expect.stringMatching(/^\[finding\] #7 finding\.unsuppressed x:.*: not allowed from no finding/),
      '[scan] #8 scan.finished scan-1: already finished at #4',
      '[exception] #10 exception.expired ex-1: already audited at #9',
      'event #13 follows #10',
      '[scan] scan scan-9 started at #13 but never finished',
    ]);
  });

  it('reports a finding transition audited before its scan finished', () => {
    const r = replayAudit(events(started(), added(), finding('opened'), finished()));
    expect(r.violations.map((v) => v.detail)).toEqual([
      expect.stringMatching(/^\[finding\] #3 finding\.opened .*: audited before its scan scan-1 finished/),
    ]);
  });

  it('runs plugged-in rules (e.g. remediation intent/result pairs)', () => {
    const pending = new Map<string, number>();
    const intentResult: ReplayRule = {
      name: 'action',
      matches: (t) => t === 'action.intent' || t === 'action.result',
      apply(e, _s, report) {
        if (e.type === 'action.intent') {
          if (pending.has(e.subject)) report(`#${e.seq} second intent for ${e.subject}`);
          pending.set(e.subject, e.seq);
        } else if (!pending.delete(e.subject)) report(`#${e.seq} result without intent for ${e.subject}`);
      },
      finish(_s, report) {
        for (const [id, seq] of pending) report(`intent #${seq} for ${id} has no result`);
      },
    };
    const r = replayAudit(
      events(
        { type: 'action.intent', subject: KEY, data: {} },
        { type: 'action.intent', subject: KEY, data: {} },
        { type: 'action.result', subject: 'other', data: {} },
      ),
      [intentResult],
    );
    expect(r.violations.map((v) => v.detail)).toEqual([
      `[action] #2 second intent for ${KEY}`,
      '[action] #3 result without intent for other',
      `[action] intent #2 for ${KEY} has no result`,
    ]);
  });

  it('lists at most `limit` violations and counts the rest', () => {
    const many = events(started(), ...Array.from({ length: 10 }, () => added()), finished());
    const r = replayAudit(many, [], 3);
    // Each repeat breaks two rules: already present, and a second credential.added in one scan.
    expect(r.total).toBe(18);
    expect(r.violations).toHaveLength(4);
    expect(r.violations[3]!.detail).toBe('…and 15 more replay violations');
  });
});

describe(compareState.name, () => {
  const replayed = replayAudit(events(started(), added(), finished(), finding('opened'))).state;

  it('is silent when the stored state is what the audit trail says', () => {
    expect(compareState(replayed, { credentials: [KEY], findings: new Map([[FP, 'open']]) })).toEqual([]);
  });

  it('reports lost and unaudited credentials, and findings whose stored state differs', () => {
    const other = 'aws/111111111111/access-key/AKIAFAKEFAKEFAKE0002';
    const out = compareState(replayed, {
      credentials: [other],
      findings: new Map([
        [FP, 'resolved'],
        [`x:${other}`, 'open'],
      ]),
    });
    expect(out.map((v) => v.detail)).toEqual([
      `credential ${other} is in the inventory but was never audited as added`,
      `credential ${KEY} was audited as added (#2) but is not in the inventory`,
      `finding ${FP} is stored resolved but the audit trail says open (#4)`,
      `finding x:${other} is stored (open) but no transition of it was audited`,
    ]);
    expect(out.every((v) => v.check === 'state-matches-audit')).toBe(true);
  });

  it('reports a finding audited but never stored', () => {
    expect(compareState(replayed, { credentials: [KEY], findings: new Map() })).toEqual([
      { check: 'state-matches-audit', detail: `finding ${FP} was audited (open, #4) but is not stored` },
    ]);
  });
});
