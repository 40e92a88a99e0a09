import { describe, expect, it } from 'vitest';
import type { Provenance } from '../../src/model/credential.js';
import { decodePolicyDocument, PolicyDecodeError, statementsToGrants } from '../../src/sources/aws/policy-doc.js';

const POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Read', Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::my bucket/*' },
  ],
};
const JSON_TEXT = JSON.stringify(POLICY);
/** RFC 3986 encoding, as GetAccountAuthorizationDetails returns it. */
const ENCODED = encodeURIComponent(JSON_TEXT);
/** Form encoding, where a space is `+`. */
const FORM_ENCODED = ENCODED.replace(/%20/g, '+');

describe(decodePolicyDocument.name, () => {
  const sut = decodePolicyDocument;

  it.each([
    { name: 'plain JSON', doc: JSON_TEXT },
    { name: 'plain JSON with surrounding whitespace', doc: `\n  ${JSON.stringify(POLICY, null, 2)}\n` },
    { name: 'URL-encoded JSON', doc: ENCODED },
    { name: 'URL-encoded JSON with + for spaces', doc: FORM_ENCODED },
  ])('should decode $name', ({ doc }) => {
    expect(sut(doc)).toEqual(POLICY);
  });

  it('should keep a literal + in plain JSON', () => {
    const doc = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: 'arn:aws:iam::1:user/a+b' }] });

    expect(sut(doc).Statement[0]?.Resource).toBe('arn:aws:iam::1:user/a+b');
  });

  it('should keep an encoded + (%2B) in URL-encoded JSON', () => {
    const doc = encodeURIComponent(
      JSON.stringify({ Statement: [{ Effect: 'Allow', Resource: 'arn:aws:iam::1:user/a+b' }] }),
    );

    expect(sut(doc).Statement[0]?.Resource).toBe('arn:aws:iam::1:user/a+b');
  });

  it.each([
    { name: 'a single Statement object', doc: { Statement: { Effect: 'Allow', Action: '*' } }, count: 1 },
    { name: 'a Statement array', doc: { Statement: [{ Effect: 'Allow' }, { Effect: 'Deny' }] }, count: 2 },
    { name: 'no Statement', doc: { Version: '2012-10-17' }, count: 0 },
    { name: 'an empty Statement array', doc: { Statement: [] }, count: 0 },
  ])('should always return a Statement list for $name', ({ doc, count }) => {
    const out = sut(encodeURIComponent(JSON.stringify(doc)));

    expect(Array.isArray(out.Statement)).toBe(true);
    expect(out.Statement).toHaveLength(count);
  });

  it.each([
    { name: 'undefined', doc: undefined, message: /empty/ },
    { name: 'null', doc: null, message: /empty/ },
    { name: 'the empty string', doc: '', message: /empty/ },
    { name: 'whitespace only', doc: '   ', message: /not valid JSON/ },
    { name: 'truncated JSON', doc: '{"Statement": [', message: /not valid JSON/ },
    { name: 'URL-encoded garbage', doc: encodeURIComponent('{not json'), message: /not valid JSON/ },
    { name: 'a broken percent escape', doc: '%7B%E0%A4%A', message: /neither JSON nor URL-encoded JSON/ },
    { name: 'a JSON string', doc: '"policy"', message: /not an object/ },
    { name: 'JSON null', doc: 'null', message: /not an object/ },
  ])('should throw PolicyDecodeError for $name', ({ doc, message }) => {
    expect(() => sut(doc)).toThrow(PolicyDecodeError);
    expect(() => sut(doc)).toThrow(message);
  });
});

describe(statementsToGrants.name, () => {
  const sut = statementsToGrants;
  const provenance: Provenance = {
    policy: 'agent-managed',
    policyArn: 'arn:aws:iam::1:policy/agent-managed',
    attachment: 'managed',
  };

  it.each([
    {
      name: 'string Action and Resource as lists',
      statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      expected: { effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] },
    },
    {
      name: 'array Action and Resource unchanged',
      statement: { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: ['a', 'b'] },
      expected: { effect: 'Allow', actions: ['s3:GetObject', 's3:PutObject'], resources: ['a', 'b'] },
    },
    {
      name: 'NotAction and NotResource',
      statement: { Effect: 'Allow', NotAction: 'iam:*', NotResource: ['arn:aws:s3:::secret/*'] },
      expected: { effect: 'Allow', notActions: ['iam:*'], notResources: ['arn:aws:s3:::secret/*'] },
    },
    {
      name: 'Sid and Condition',
      statement: {
        Sid: 'OnlyFromVpc',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } },
      },
      expected: {
        sid: 'OnlyFromVpc',
        effect: 'Deny',
        actions: ['*'],
        resources: ['*'],
        condition: { StringNotEquals: { 'aws:SourceVpc': 'vpc-1' } },
      },
    },
    {
      name: 'no Effect as Allow',
      statement: { Action: 's3:GetObject' },
      expected: { effect: 'Allow', actions: ['s3:GetObject'] },
    },
  ])('should carry $name', ({ statement, expected }) => {
    const doc = decodePolicyDocument(encodeURIComponent(JSON.stringify({ Statement: statement })));

    expect(sut(doc, provenance)).toEqual([{ type: 'aws-statement', provenance, ...expected }]);
  });

  it('should make one grant per statement, in document order', () => {
    const doc = decodePolicyDocument(
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Action: 'a:1' },
          { Effect: 'Deny', Action: 'a:2' },
          { Effect: 'Allow', Action: 'a:3' },
        ],
      }),
    );

    expect(sut(doc, provenance).map((g) => [g.effect, g.actions])).toEqual([
      ['Allow', ['a:1']],
      ['Deny', ['a:2']],
      ['Allow', ['a:3']],
    ]);
  });

  it('should leave out fields the statement does not have', () => {
    const [grant] = sut(decodePolicyDocument('{"Statement":{"Effect":"Allow","Action":"*"}}'), provenance);

    expect(Object.keys(grant!).sort()).toEqual(['actions', 'effect', 'provenance', 'type']);
  });
});
