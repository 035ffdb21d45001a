// Proves each wire message parser returns a good body unchanged and rejects every bad field with an input error that names the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../core/errors.ts';
import {
  parseAuthenticateRequest,
  parseCertificateData,
  parseCertificateRequest,
  parseChallengeRequest,
  parseChallengeResponse,
  parseCompletionNotice,
} from '../../core/messages.ts';

type Parser = (value: unknown) => unknown;
type Body = Record<string, unknown>;

function rejection(parse: Parser, body: unknown): AppError {
  try {
    parse(body);
  } catch (error) {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.kind, 'input');
    return error;
  }
  return assert.fail('the parser accepted a bad body');
}

function without(body: Body, field: string): Body {
  const copy = { ...body };
  delete copy[field];
  return copy;
}

/** Missing, wrong type and each listed bad value of a field are all rejected, naming that field. */
function rejectsField(parse: Parser, good: Body, field: string, badValues: unknown[]): void {
  it(`rejects "${field}" missing, of the wrong type, or ${badValues.map((value) => JSON.stringify(value)).join(', ')}`, () => {
    const wrongType = typeof good[field] === 'number' ? String(good[field]) : 12345;
    for (const body of [without(good, field), { ...good, [field]: wrongType }, { ...good, [field]: null }, ...badValues.map((value) => ({ ...good, [field]: value }))]) {
      const error = rejection(parse, body);
      assert.equal(error.code, 'request.bad_field', JSON.stringify(body[field]));
      assert.equal(error.where, field, JSON.stringify(body[field]));
    }
  });
}

function rejectsNonObjects(parse: Parser): void {
  it('rejects a body that is not a JSON object', () => {
    for (const body of [null, [], 'text', 42, undefined]) {
      const error = rejection(parse, body);
      assert.equal(error.code, 'request.not_object');
      assert.equal(error.where, 'body');
    }
  });
}

const badIds = ['', 'has space', 'a/b', 'x'.repeat(65), 'ｋｉｏｓｋ'];
const badBase64 = ['abcde', 'ab=', 'a===', 'not base64!', 'YQ=', ''];
const badTimes = ['2026-13-01T00:00:00Z', '2026-02-30T10:00:00Z', '2026-11-02T24:00:00Z', '2026-11-02T10:15:60Z', '2026-11-02 10:15:00Z', '2026-11-02T10:15:00', '2026-11-02T10:15:00+24:00', 'yesterday'];

describe('parseChallengeRequest', () => {
  const good = { kioskId: 'kiosk-001' };
  it('accepts a good body', () => assert.deepEqual(parseChallengeRequest(good), good));
  rejectsNonObjects(parseChallengeRequest);
  rejectsField(parseChallengeRequest, good, 'kioskId', badIds);
});

describe('parseAuthenticateRequest', () => {
  const good = { kioskId: 'kiosk-001', challengeId: 'c0ffee', certificateDerBase64: 'MIIB', signatureBase64: 'YWJjZA==' };
  it('accepts a good body, one- and two-character padding included', () => {
    assert.deepEqual(parseAuthenticateRequest(good), good);
    assert.deepEqual(parseAuthenticateRequest({ ...good, signatureBase64: 'YWI=' }), { ...good, signatureBase64: 'YWI=' });
  });
  it('drops fields it does not know', () => {
    assert.deepEqual(parseAuthenticateRequest({ ...good, pin: '1234' }), good);
  });
  rejectsNonObjects(parseAuthenticateRequest);
  rejectsField(parseAuthenticateRequest, good, 'kioskId', badIds);
  rejectsField(parseAuthenticateRequest, good, 'challengeId', badIds);
  rejectsField(parseAuthenticateRequest, good, 'certificateDerBase64', badBase64);
  rejectsField(parseAuthenticateRequest, good, 'signatureBase64', badBase64);
});

describe('parseCertificateRequest', () => {
  const good = { kioskId: 'kiosk-001', sessionToken: 'abc123', requestId: 'req-1', certificateType: 'koseki-zenbu', copies: 2 };
  it('accepts a good body, 1 and 99 copies included', () => {
    assert.deepEqual(parseCertificateRequest(good), good);
    assert.equal(parseCertificateRequest({ ...good, copies: 1 }).copies, 1);
    assert.equal(parseCertificateRequest({ ...good, copies: 99 }).copies, 99);
  });
  rejectsNonObjects(parseCertificateRequest);
  rejectsField(parseCertificateRequest, good, 'kioskId', badIds);
  rejectsField(parseCertificateRequest, good, 'sessionToken', badIds);
  rejectsField(parseCertificateRequest, good, 'requestId', badIds);
  rejectsField(parseCertificateRequest, good, 'certificateType', ['Passport', 'JUMINHYO', '', '1-type', 'x'.repeat(33)]);
  it('accepts options as codes and their values, and refuses anything else', () => {
    assert.deepEqual(parseCertificateRequest({ ...good, options: { household: 'all', fiscalYear: '2025' } }).options, { household: 'all', fiscalYear: '2025' });
    for (const options of [[], 'household=all', { household: 1 }, { 'house hold': 'all' }, { household: 'All' }, Object.fromEntries(Array.from({ length: 9 }, (_, index) => [`k${index}`, 'v']))]) {
      assert.throws(() => parseCertificateRequest({ ...good, options }), (error: unknown) => error instanceof AppError && error.where === 'options', JSON.stringify(options));
    }
  });
  rejectsField(parseCertificateRequest, good, 'copies', [0, -1, 100, 1.5, Number.NaN]);
});

describe('parseCompletionNotice', () => {
  const good = {
    issuanceId: 'req-1',
    issuedAt: '2026-11-02T10:15:00+09:00',
    storeId: 'store-01',
    kioskId: 'kiosk-001',
    municipalityCode: '131016',
    certificateType: 'juminhyo',
    copies: 2,
    feeYen: 600,
    outcome: 'issued',
  };
  it('accepts a good body, and a refunded one with 0 copies and 0 yen', () => {
    assert.deepEqual(parseCompletionNotice(good), good);
    const refunded = { ...good, copies: 0, feeYen: 0, outcome: 'refunded' };
    assert.deepEqual(parseCompletionNotice(refunded), refunded);
  });
  it('accepts Z and milliseconds in issuedAt, and the last day of February in a leap year', () => {
    for (const issuedAt of ['2026-11-02T01:15:00Z', '2026-11-02T01:15:00.123Z', '2028-02-29T23:59:59-05:00']) {
      assert.equal(parseCompletionNotice({ ...good, issuedAt }).issuedAt, issuedAt);
    }
  });
  rejectsNonObjects(parseCompletionNotice);
  rejectsField(parseCompletionNotice, good, 'outcome', ['ok', 'ISSUED']);
  rejectsField(parseCompletionNotice, good, 'issuanceId', badIds);
  rejectsField(parseCompletionNotice, good, 'issuedAt', [...badTimes, '2027-02-29T10:00:00Z']);
  rejectsField(parseCompletionNotice, good, 'storeId', badIds);
  rejectsField(parseCompletionNotice, good, 'kioskId', badIds);
  rejectsField(parseCompletionNotice, good, 'municipalityCode', ['13101', '1310166', '13101a']);
  rejectsField(parseCompletionNotice, good, 'certificateType', ['Passport']);
  rejectsField(parseCompletionNotice, good, 'copies', [-1, 100, 0.5]);
  rejectsField(parseCompletionNotice, good, 'feeYen', [-1, 10_000_001, 2.5]);

  // C§9: a refund once printing began voids every serial of the issuance (core/certificate-serial.ts).
  const voided = { serials: [`${good.issuanceId}-1`, `${good.issuanceId}-2`], code: 'printer.jam' };
  const refunded = { ...good, copies: 0, feeYen: 0, outcome: 'refunded', voided };
  it('accepts a refunded notice with the serials it voided', () => assert.deepEqual(parseCompletionNotice(refunded), refunded));
  it('rejects voided serials on an issued notice, of another issuance, repeated, malformed, none, or without a code', () => {
    const bad: [unknown, unknown][] = [
      [good.outcome, voided],
      ['refunded', 'all'],
      ['refunded', { ...voided, serials: [] }],
      ['refunded', { ...voided, serials: 'x-1' }],
      ['refunded', { ...voided, serials: [`${good.issuanceId}-1`, `${good.issuanceId}-1`] }],
      ['refunded', { ...voided, serials: ['other-1'] }],
      ['refunded', { ...voided, serials: [`${good.issuanceId}-0`] }],
      ['refunded', { ...voided, serials: [`${good.issuanceId}`] }],
      ['refunded', { ...voided, serials: [7] }],
      ['refunded', { ...voided, code: 'Printer Jam' }],
      ['refunded', { serials: voided.serials }],
    ];
    for (const [outcome, value] of bad) {
      const error = rejection(parseCompletionNotice, { ...refunded, outcome, ...(outcome === 'issued' ? { copies: good.copies, feeYen: good.feeYen } : {}), voided: value });
      assert.ok(error.where?.startsWith('voided'), `${JSON.stringify(value)}: ${error.where}`);
    }
  });
});

describe('parseChallengeResponse', () => {
  const good = { challengeId: '0123456789abcdef0123456789abcdef', challengeBase64: Buffer.alloc(32, 7).toString('base64'), expiresAt: '2026-11-02T01:01:00.000Z' };
  it('accepts a good body', () => assert.deepEqual(parseChallengeResponse(good), good));
  rejectsNonObjects(parseChallengeResponse);
  rejectsField(parseChallengeResponse, good, 'challengeId', ['', 'has space', 7]);
  rejectsField(parseChallengeResponse, good, 'challengeBase64', ['', 'short', 'not base64!!!!!!!!!!!']);
  rejectsField(parseChallengeResponse, good, 'expiresAt', ['soon', '2026-02-30T00:00:00Z']);
});

describe('parseCertificateData', () => {
  const good = {
    requestId: 'req-1',
    kioskId: 'kiosk-001',
    residentRef: '0011223344556677',
    certificateType: 'inkan',
    title: '印鑑登録証明書',
    options: {},
    copies: 3,
    unitFeeYen: 300,
    feeYen: 900,
    municipalityCode: '131016',
    municipalityName: '千代田区',
    contentSha256: 'ab'.repeat(32),
    pdfsBase64: ['JVBERi0xLjQK', 'JVBERi0xLjQy', 'JVBERi0xLjQz'],
  };
  it('accepts a good body', () => assert.deepEqual(parseCertificateData(good), good));
  rejectsNonObjects(parseCertificateData);
  rejectsField(parseCertificateData, good, 'requestId', badIds);
  rejectsField(parseCertificateData, good, 'kioskId', badIds);
  rejectsField(parseCertificateData, good, 'residentRef', badIds);
  rejectsField(parseCertificateData, good, 'certificateType', ['Passport']);
  rejectsField(parseCertificateData, good, 'title', ['', 'x'.repeat(41), 'a\nb']);
  rejectsField(parseCertificateData, good, 'options', [[], 'household=all', { household: 1 }]);
  rejectsField(parseCertificateData, good, 'copies', [0, -1, 100]);
  rejectsField(parseCertificateData, good, 'unitFeeYen', [-1, 100_001]);
  rejectsField(parseCertificateData, good, 'feeYen', [-1]);
  rejectsField(parseCertificateData, good, 'municipalityCode', ['13101']);
  rejectsField(parseCertificateData, good, 'municipalityName', ['', 'x'.repeat(201)]);
  rejectsField(parseCertificateData, good, 'contentSha256', ['AB'.repeat(32), 'ab'.repeat(31), 'zz'.repeat(32)]);
  rejectsField(parseCertificateData, good, 'pdfsBase64', [[], ['JVBERi0xLjQK'], 'JVBERi0xLjQK', ...badBase64.map((bad) => ['JVBERi0xLjQK', bad, 'JVBERi0xLjQz']), ['JVBERi0xLjQK', 7, 'JVBERi0xLjQz']]);
});
