/**
 * Validators for the export formats' real schemas: OCSF 1.5.0 (test/fixtures/ocsf-1.5.0, draft
 * 2020-12, the `cloud` profile's variant for events that declare it) and SARIF 2.1.0 rtm.5
 * (test/fixtures/sarif-2.1.0, draft-04). Each returns the errors, empty when valid.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';

// CommonJS modules: under NodeNext their default import is module.exports; the classes are `.default`.
const Ajv2020 = Ajv2020Module.default;
const Ajv04 = Ajv04Module.default;
const addFormats = addFormatsModule.default;

const FIXTURES = join(import.meta.dirname, '../fixtures');
const json = (p: string): object => JSON.parse(readFileSync(join(FIXTURES, p), 'utf8')) as object;

const ajv2020 = new Ajv2020({ strict: false, allErrors: true });
const ocsf = new Map(
  ['detection_finding', 'detection_finding.cloud', 'compliance_finding', 'compliance_finding.cloud'].map((n) => [
    n,
    ajv2020.compile(json(`ocsf-1.5.0/${n}.json`)),
  ]),
);

/** Schema errors of one OCSF event against its class's schema, with the profiles it declares. */
export function ocsfSchemaErrors(e: { class_uid?: unknown; metadata?: { profiles?: string[] } }): string[] {
  const cls = e.class_uid === 2004 ? 'detection_finding' : e.class_uid === 2003 ? 'compliance_finding' : '?';
  const v = ocsf.get((e.metadata?.profiles ?? []).includes('cloud') ? `${cls}.cloud` : cls);
  if (!v) return [`no schema for class ${String(e.class_uid)}`];
  return v(e) ? [] : (v.errors ?? []).map((x) => `${x.instancePath} ${x.message} ${JSON.stringify(x.params)}`);
}

// unicodeRegExp off: the schema's `language` pattern has a lone `]`, legal only outside unicode mode.
const ajv04 = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv04);
const sarif = ajv04.compile(json('sarif-2.1.0/sarif-2.1.0-rtm.5.json'));

export function sarifSchemaErrors(doc: unknown): string[] {
  return sarif(doc) ? [] : (sarif.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
