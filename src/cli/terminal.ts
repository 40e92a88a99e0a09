/**
 * Text bound for a terminal, made inert. Credential fields come from the cloud (moto and IAM accept
 * ESC, OSC and BEL in an action string): printed raw, `\x1b]0;…\x07\x1b[2J` retitles and clears the
 * reader's terminal, and bidi overrides make text read differently from what it is. Every C0
 * control but newline and tab, DEL, every C1 control (U+0080–U+009F) and the bidi embedding,
 * override and isolate characters (U+202A–U+202E, U+2066–U+2069) become visible `\u001b`-style
 * escapes. The same escape is valid inside a JSON string and means the same character there, so
 * `--json` output stays valid JSON with the same values (JSON.stringify already escapes C0).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function escapeTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
