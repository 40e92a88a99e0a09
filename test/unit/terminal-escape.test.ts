/**
 * Terminal escapes (issue 8, part 2): moto accepts ESC, OSC and BEL in an IAM action string, and
 * `findings`/`score` printed `\e]0;…\a\e[2J` raw. The process Io escapes every control and bidi
 * character on the way out, for every command and every line, --json included (same values).
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { processIo, streamIo } from '../../src/cli/context.js';
import { credentialTable } from '../../src/cli/format.js';
import { run } from '../../src/cli/main.js';
import { escapeTerminal } from '../../src/cli/terminal.js';
import type { Credential } from '../../src/model/credential.js';

const PWN = '\x1b]0;pwned\x07\x1b[2J';
const PWN_ESCAPED = '\\u001b]0;pwned\\u0007\\u001b[2J';
/** Anything a terminal would act on: C0 but \n and \t, DEL, C1, bidi overrides and isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return Object.assign(w, { text: () => chunks.join('') });
}

describe(escapeTerminal.name, () => {
  it.each([
    ['OSC title + clear screen', PWN, PWN_ESCAPED],
    ['BEL, BS, CR, VT, FF, NUL', 'a\x07b\x08c\rd\x0be\x0cf\x00', 'a\\u0007b\\u0008c\\u000dd\\u000be\\u000cf\\u0000'],
    ['DEL', 'x\x7fy', 'x\\u007fy'],
    ['C1 controls (CSI, OSC, NEL)', '\u009b2J\u009d0;t\u0085', '\\u009b2J\\u009d0;t\\u0085'],
    ['bidi overrides and isolates', 'a\u202eb\u202ac\u2066d\u2069e', 'a\\u202eb\\u202ac\\u2066d\\u2069e'],
    ['newline and tab kept', 'a\tb\nc', 'a\tb\nc'],
    ['ordinary text, accents, emoji, other Unicode kept', 'Böt 🤖 日本 \u00a0 \u200b', 'Böt 🤖 日本 \u00a0 \u200b'],
  ])('%s', (_name, input, expected) => {
    expect(escapeTerminal(input)).toBe(expected);
  });

  it('should keep JSON valid and its values the same', () => {
    const value = { id: `x${PWN}\u009b\u202e\u2067y`, n: 1 };
    const text = escapeTerminal(JSON.stringify(value, null, 2));

    expect(text).not.toMatch(UNSAFE);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe(streamIo.name, () => {
  it('should escape everything written to stdout and stderr, and end each with a newline', () => {
    const out = sink();
    const err = sink();
    const io = streamIo(out, err, false);

    io.out(`finding ${PWN}`);
    io.err(`credwarden: ${PWN}\n`);

    expect(out.text()).toBe(`finding ${PWN_ESCAPED}\n`);
    expect(err.text()).toBe(`credwarden: ${PWN_ESCAPED}\n`);
  });

  it('processIo (what the credwarden binary uses) should be one', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let calls: unknown[][];
    try {
      processIo.out(PWN);
    } finally {
      calls = [...write.mock.calls];
      write.mockRestore();
    }
    expect(calls).toEqual([[`${PWN_ESCAPED}\n`]]);
  });

  it('should escape a credential table (what `inventory` prints)', () => {
    const out = sink();
    const cred = {
      id: `aws/123456789012/access-key/AKIA${PWN}`,
      kind: 'aws-access-key',
      agentId: `bot\u202e`,
      unregisteredAgent: false,
      status: 'active',
      createdAt: null,
      lastUsed: null,
      grants: [],
      attributes: {},
    } as unknown as Credential;

    streamIo(out, sink(), false).out(credentialTable([cred]));

    expect(out.text()).not.toMatch(UNSAFE);
    expect(out.text()).toContain(`AKIA${PWN_ESCAPED}`);
    expect(out.text()).toContain('bot\\u202e');
  });
});

describe('CLI output through the process Io', () => {
  const POLICY = `policies:
  - name: p1
    description: d
    rules:
      - type: unused-for
        days: 30
    severity: medium
`;

  it('`policy validate` should print an exception owner holding escapes escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-esc-'));
    const f = join(dir, 'p.yaml');
    writeFileSync(
      f,
      `${POLICY}exceptions:\n  - id: e1\n    selector: { agents: [bot] }\n    owner: "me\\e]0;pwned\\a\\e[2J"\n    reason: why\n    expires: 2099-01-01\n`,
    );
    const out = sink();
    const err = sink();

    const code = await run(['policy', 'validate', f], streamIo(out, err, false));

    expect(err.text()).toBe('');
    expect(code).toBe(0);
    expect(out.text()).not.toMatch(UNSAFE);
    expect(out.text()).toContain(`exception e1: owner me${PWN_ESCAPED}, expires 2099-01-01`);
  });

  it('an error line echoing input should be escaped too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-esc-'));
    const f = join(dir, 'p.yaml');
    writeFileSync(f, POLICY.replace('type: unused-for', 'type: "x\\e]0;pwned\\a\\e[2J"'));
    const out = sink();
    const err = sink();

    const code = await run(['policy', 'validate', f], streamIo(out, err, false));

    expect(code).toBe(2);
    expect(err.text()).not.toMatch(UNSAFE);
    expect(err.text()).toContain(`unknown rule type "x${PWN_ESCAPED}"`);
  });

  it('commander messages (an unknown option echoed back) go through it as well', async () => {
    const err = sink();

    const code = await run([`--bad${PWN}`], streamIo(sink(), err, false));

    expect(code).toBe(2);
    expect(err.text()).not.toMatch(UNSAFE);
    expect(err.text()).toContain(PWN_ESCAPED);
  });
});
