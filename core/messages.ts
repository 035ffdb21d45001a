// The JSON messages that cross kiosk → relay → centre, and their validation. Every field a peer sends
// is checked here before any rule looks at it; a broken request names the field it got wrong.

import { isCertificateType, type CertificateType } from './certificate-types.ts';
import { inputError } from './errors.ts';

export interface ChallengeRequest {
  kioskId: string;
}

export interface ChallengeResponse {
  challengeId: string;
  challengeBase64: string;
  expiresAt: string;
}

export interface AuthenticateRequest {
  kioskId: string;
  challengeId: string;
  certificateDerBase64: string;
  signatureBase64: string;
}

export interface MenuItem {
  certificateType: CertificateType;
  title: string;
  unitFeeYen: number;
  maxCopies: number;
  available: boolean;
  hoursText: string;
}

export interface AuthenticateResponse {
  sessionToken: string;
  /** Pseudonymous: stable for this session only, never a name or a card serial. */
  residentRef: string;
  municipality: { code: string; name: string };
  menu: MenuItem[];
  expiresAt: string;
}

export interface CertificateRequest {
  kioskId: string;
  sessionToken: string;
  requestId: string;
  certificateType: CertificateType;
  copies: number;
}

/** Certificate data bound to one request on one kiosk for one resident (SPEC.md §2 step 6). */
export interface CertificateData {
  requestId: string;
  kioskId: string;
  residentRef: string;
  certificateType: CertificateType;
  copies: number;
  unitFeeYen: number;
  feeYen: number;
  municipalityCode: string;
  municipalityName: string;
  contentSha256: string;
  pdfBase64: string;
}

export type CompletionOutcome = 'issued' | 'refunded';

/** Completion notice (Spec§13): what a kiosk tells the centre after each transaction. */
export interface CompletionNotice {
  issuanceId: string;
  issuedAt: string;
  storeId: string;
  kioskId: string;
  municipalityCode: string;
  certificateType: CertificateType;
  copies: number;
  feeYen: number;
  outcome: CompletionOutcome;
}

export interface CompletionAck {
  issuanceId: string;
  duplicate: boolean;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

type Json = Record<string, unknown>;

export function asObject(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw inputError('request.not_object', 'expected a JSON object', where);
  }
  return value as Json;
}

export function stringField(body: Json, field: string, pattern: RegExp = /^.{1,200}$/s): string {
  const value = body[field];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw inputError('request.bad_field', `field "${field}" is missing or malformed`, field);
  }
  return value;
}

export function integerField(body: Json, field: string, minimum: number, maximum: number): number {
  const value = body[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw inputError('request.bad_field', `field "${field}" must be an integer from ${minimum} to ${maximum}`, field);
  }
  return value;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;
const MUNICIPALITY_CODE = /^[0-9]{6}$/;

function certificateTypeField(body: Json): CertificateType {
  const value = body.certificateType;
  if (!isCertificateType(value)) {
    throw inputError('request.bad_field', 'field "certificateType" is not a known certificate type', 'certificateType');
  }
  return value;
}

export function parseChallengeRequest(value: unknown): ChallengeRequest {
  const body = asObject(value, 'body');
  return { kioskId: stringField(body, 'kioskId', ID) };
}

export function parseAuthenticateRequest(value: unknown): AuthenticateRequest {
  const body = asObject(value, 'body');
  return {
    kioskId: stringField(body, 'kioskId', ID),
    challengeId: stringField(body, 'challengeId', ID),
    certificateDerBase64: stringField(body, 'certificateDerBase64', BASE64),
    signatureBase64: stringField(body, 'signatureBase64', BASE64),
  };
}

export function parseCertificateRequest(value: unknown): CertificateRequest {
  const body = asObject(value, 'body');
  return {
    kioskId: stringField(body, 'kioskId', ID),
    sessionToken: stringField(body, 'sessionToken', ID),
    requestId: stringField(body, 'requestId', ID),
    certificateType: certificateTypeField(body),
    copies: integerField(body, 'copies', 1, 99),
  };
}

export function parseCompletionNotice(value: unknown): CompletionNotice {
  const body = asObject(value, 'body');
  const outcome = body.outcome;
  if (outcome !== 'issued' && outcome !== 'refunded') {
    throw inputError('request.bad_field', 'field "outcome" must be "issued" or "refunded"', 'outcome');
  }
  return {
    issuanceId: stringField(body, 'issuanceId', ID),
    issuedAt: stringField(body, 'issuedAt', ISO_TIME),
    storeId: stringField(body, 'storeId', ID),
    kioskId: stringField(body, 'kioskId', ID),
    municipalityCode: stringField(body, 'municipalityCode', MUNICIPALITY_CODE),
    certificateType: certificateTypeField(body),
    copies: integerField(body, 'copies', 0, 99),
    feeYen: integerField(body, 'feeYen', 0, 10_000_000),
    outcome,
  };
}

export function parseCertificateData(value: unknown): CertificateData {
  const body = asObject(value, 'body');
  return {
    requestId: stringField(body, 'requestId', ID),
    kioskId: stringField(body, 'kioskId', ID),
    residentRef: stringField(body, 'residentRef', ID),
    certificateType: certificateTypeField(body),
    copies: integerField(body, 'copies', 1, 99),
    unitFeeYen: integerField(body, 'unitFeeYen', 0, 100_000),
    feeYen: integerField(body, 'feeYen', 0, 10_000_000),
    municipalityCode: stringField(body, 'municipalityCode', MUNICIPALITY_CODE),
    municipalityName: stringField(body, 'municipalityName'),
    contentSha256: stringField(body, 'contentSha256', /^[0-9a-f]{64}$/),
    pdfBase64: stringField(body, 'pdfBase64', /^[A-Za-z0-9+/]+={0,2}$/),
  };
}
