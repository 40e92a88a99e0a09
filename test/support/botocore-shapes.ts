/**
 * A validator of JSON values against botocore service-model shapes (`service-2.json`: the
 * `shapes` map, each shape `{ type, ... }`), as botocore's ParamValidation and the service's
 * Smithy constraints read them:
 * - structure: an object; every `required` member present; a member the shape does not define
 *   is a problem (botocore refuses unknown parameters);
 * - string: `min`/`max` in characters (Unicode code points), `pattern` (ECMA-262, not implicitly
 *   anchored, as Smithy's @pattern: the value has to contain a match), `enum`;
 * - list: an array of `member`, `min`/`max` items; map: an object of `key` → `value`, `min`/`max` entries;
 * - integer/long (whole numbers), double/float (finite numbers): `min`/`max`; boolean;
 * - timestamp: an ISO 8601 string as JSON APIs take it: RFC 3339 `YYYY-MM-DDTHH:MM:SS(.fff)?(Z|±HH:MM)`
 *   that Date.parse reads.
 * Each problem is `<JSON path>: <what>`, e.g. `Resources[0].Details.AwsIamUser.UserName: …`.
 */

interface Ref {
  shape: string;
}

interface Bounds {
  min?: number;
  max?: number;
}

export type BotocoreShape =
  | ({ type: 'structure'; members: Record<string, Ref>; required?: string[] } & Bounds)
  | ({ type: 'string'; pattern?: string; enum?: string[] } & Bounds)
  | ({ type: 'list'; member: Ref } & Bounds)
  | ({ type: 'map'; key: Ref; value: Ref } & Bounds)
  | ({ type: 'integer' | 'long' | 'double' | 'float' } & Bounds)
  | { type: 'boolean' }
  | { type: 'timestamp'; timestampFormat?: string }
  | { type: 'blob' };

export interface BotocoreModel {
  shapes: Record<string, BotocoreShape>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 timestamp as AWS's JSON APIs take it: RFC 3339 `YYYY-MM-DDTHH:MM:SS(.fff)?(Z|±HH:MM)`, a real date. */
export const isIsoTimestamp = (v: string): boolean => RFC3339.test(v) && !Number.isNaN(Date.parse(v));

const patterns = new Map<string, RegExp>();
function regex(p: string): RegExp {
  let r = patterns.get(p);
  if (!r) {
    r = new RegExp(p, 'u');
    patterns.set(p, r);
  }
  return r;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** `a` + `.b`, or `b` at the root. */
const member = (path: string, name: string): string => (path ? `${path}.${name}` : name);

function bounds(s: Bounds, n: number, what: string, at: string): string[] {
  const out: string[] = [];
  if (s.min !== undefined && n < s.min) out.push(`${at}: ${what} ${n} < min ${s.min}`);
  if (s.max !== undefined && n > s.max) out.push(`${at}: ${what} ${n} > max ${s.max}`);
  return out;
}

function check(model: BotocoreModel, name: string, value: unknown, path: string): string[] {
  const s = model.shapes[name];
  const at = path || '(root)';
  if (!s) return [`${at}: shape ${name} not in the model`];
  const expected = (t: string) => [`${at}: expected ${t} (shape ${name}), got ${typeOf(value)}`];
  switch (s.type) {
    case 'structure': {
      if (!isObject(value)) return expected('an object');
      const out = (s.required ?? [])
        .filter((r) => value[r] === undefined)
        .map((r) => `${member(path, r)}: missing required member (shape ${name})`);
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        const m = s.members[k];
        if (!m) out.push(`${member(path, k)}: unknown member of ${name}`);
        else out.push(...check(model, m.shape, v, member(path, k)));
      }
      return out;
    }
    case 'string': {
      if (typeof value !== 'string') return expected('a string');
      const out = bounds(s, [...value].length, 'length', at);
      if (s.pattern !== undefined && !regex(s.pattern).test(value))
        out.push(`${at}: ${JSON.stringify(value.slice(0, 40))} does not match pattern ${s.pattern} (shape ${name})`);
      if (s.enum && !s.enum.includes(value))
        out.push(`${at}: ${JSON.stringify(value)} not one of ${s.enum.join(', ')} (shape ${name})`);
      return out;
    }
    case 'blob':
      return typeof value === 'string' ? [] : expected('a (base64) string');
    case 'list':
      if (!Array.isArray(value)) return expected('an array');
      return [
        ...bounds(s, value.length, 'items', at),
        ...value.flatMap((v, i) => check(model, s.member.shape, v, `${path}[${i}]`)),
      ];
    case 'map': {
      if (!isObject(value)) return expected('an object (map)');
      const entries = Object.entries(value);
      return [
        ...bounds(s, entries.length, 'entries', at),
        ...entries.flatMap(([k, v]) => [
          ...check(model, s.key.shape, k, `${path} key ${JSON.stringify(k)}`),
          ...check(model, s.value.shape, v, `${path}[${JSON.stringify(k)}]`),
        ]),
      ];
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) return expected('a whole number');
      return bounds(s, value, 'value', at);
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return expected('a number');
      return bounds(s, value, 'value', at);
    case 'boolean':
      return typeof value === 'boolean' ? [] : expected('a boolean');
    case 'timestamp':
      if (typeof value !== 'string') return expected('an ISO 8601 string');
      return isIsoTimestamp(value)
        ? []
        : [`${at}: ${JSON.stringify(value)} is not an RFC 3339 timestamp (shape ${name})`];
    default:
      return [`${at}: shape ${name} has a type this validator does not know: ${(s as { type: string }).type}`];
  }
}

/** Every problem of `value` as the shape `shapeName` of `model` (empty: valid). */
export function validateShape(model: BotocoreModel, shapeName: string, value: unknown): string[] {
  return check(model, shapeName, value, '');
}
