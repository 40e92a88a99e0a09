/**
 * The standalone verifier recomputes audit hashes with its own copy of canonicalJson
 * (src/evidence/verify-chain.ts): it must agree with src/audit/event.ts byte for byte, on any
 * parsed JSON (fast-check, unicode and lone surrogates included) and on numbers chosen for their
 * formatting; and on whole events as buildEvent writes them (hash and stored text).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEvent, canonicalJson as eventCanonical, GENESIS_HASH, prepareForAppend } from '../../src/audit/event.js';
import { canonicalJson, eventProblem, sha256OfEvent } from '../../src/evidence/verify-chain.js';

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.1 + 0.2,
  1e21,
  1e-7,
  123456789012345680000,
  5e-324,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1 / 3,
  -1.5e-10,
  999999999999999900000,
  1.7976931348623157e308,
];

describe('verifier canonicalJson = src/audit/event.ts canonicalJson', () => {
  it('on numbers picked for their formatting', () => {
    for (const n of NUMBERS) {
      const v = JSON.parse(JSON.stringify({ n, a: [n], o: { [String(n)]: n } }));
      expect(canonicalJson(v)).toBe(eventCanonical(v));
    }
  });

  it('on keys sorted by UTF-16 code units (astral, accented, uppercase, digits)', () => {
    const v = { é: 1, e: 2, E: 3, '𝄞': 4, '\uffff': 5, '10': 6, '9': 7, '': 8, a: { z: 1, A: 2 } };
    expect(canonicalJson(v)).toBe(eventCanonical(v));
    expect(canonicalJson(v).startsWith('{"":8,"10":6,"9":7,"E":3')).toBe(true);
  });

  it('on any parsed JSON value (fast-check, binary strings with lone surrogates)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary', maxDepth: 5 }), (value) => {
        const parsed = JSON.parse(JSON.stringify(value));
        expect(canonicalJson(parsed)).toBe(eventCanonical(parsed));
      }),
      { numRuns: 3000 },
    );
  });

  it('on whole events as buildEvent writes them: the stored text, the hash, the shape', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 })),
        fc.string({ unit: 'grapheme', minLength: 1 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (data, subject, seq) => {
          let prepared: ReturnType<typeof prepareForAppend>;
          try {
            prepared = prepareForAppend({ type: 't.e', actor: 'ä-actor', subject, data });
          } catch {
            return; // a field name the audit log refuses as a secret: not an event
          }
          const { event, text } = buildEvent(prepared, seq, '2026-03-01T00:00:00.000Z', GENESIS_HASH);
          const parsed = JSON.parse(text);
          expect(eventProblem(parsed)).toBeNull();
          expect(canonicalJson(parsed)).toBe(text);
          expect(sha256OfEvent(parsed)).toBe(event.hash);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a changed value or key changes the recomputed hash', () => {
    const p = prepareForAppend({ type: 't', actor: 'a', subject: 's', data: { x: 1.5, y: 'é' } });
    const { event, text } = buildEvent(p, 7, '2026-03-01T00:00:00.000Z', GENESIS_HASH);
    for (const edited of [text.replace('1.5', '1.50001'), text.replace('"y"', '"Y"'), text.replace('é', 'e')]) {
      expect(edited).not.toBe(text);
      expect(sha256OfEvent(JSON.parse(edited))).not.toBe(event.hash);
    }
  });
});
