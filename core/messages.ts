// The JSON messages that cross kiosk → relay → centre, and their validation. Every field a peer sends
// is checked here before any rule looks at it; a broken request names the field it got wrong.

import { isCertificateTypeCode, MAX_OPTIONS, OPTION_KEY, OPTION_VALUE, type CertificateOptions, type CertificateType, type OfferedOption } from './certificate-types.ts';
import { MAX_COPIES, parseCertificateSerial } from './certificate-serial.ts';
import { concatBytes, utf8Encode } from './bytes.ts';
import { inputError, type ErrorKind } from './errors.ts';
import { parseIsoInstant } from './jst.ts';

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
  /** What the resident chooses besides copies (世帯全員/一部, 本籍・筆頭者 …), each with its default. */
  options: OfferedOption[];
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
  /** Option key → chosen value; keys left out take the menu's default. */
  options?: CertificateOptions;
}

/** Certificate data bound to one request on one kiosk for one resident (SPEC.md §2 step 6). */
export interface CertificateData {
  requestId: string;
  kioskId: string;
  residentRef: string;
  certificateType: CertificateType;
  /** The type's title as the municipality defines it, for the fee screen and the receipt. */
  title: string;
  /** Every option of the type with the value the certificate was made with. */
  options: CertificateOptions;
  copies: number;
  unitFeeYen: number;
  feeYen: number;
  municipalityCode: string;
  municipalityName: string;
  /** SHA-256 over every copy's SHA-256 in copy order (certificateDigestInput), hex. */
  contentSha256: string;
  /** One PDF per copy, in copy order: each carries its own serial and n/N (core/certificate-serial.ts). */
  pdfsBase64: string[];
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
  /**
   * C§9: on a refund after printing began (a misprint, a cash fault after printing), every serial of
   * the transaction, printed or not, and the fault that voided them. The centre keeps them as void.
   */
  voided?: VoidedSerials;
}

export interface VoidedSerials {
  serials: string[];
  /** The fault's code, e.g. printer.jam or cash.fault. */
  code: string;
}

/** Why a record is corrected after its completion notice (Spec§13-2): codes, never free text. */
export const CORRECTION_REASONS = ['copies-miscounted', 'misprint-found', 'refunded-after-notice'] as const;
export type CorrectionReason = (typeof CORRECTION_REASONS)[number];

/** A correction notice: the issuance's copies and fee as they really were. */
export interface CorrectionNotice {
  correctionId: string;
  issuanceId: string;
  correctedAt: string;
  storeId: string;
  kioskId: string;
  copies: number;
  feeYen: number;
  reason: CorrectionReason;
}

export interface CompletionAck {
  issuanceId: string;
  duplicate: boolean;
  /** Set when the record's month was confirmed: it is settled as a 過誤調整 line in settleMonth. */
  adjustment?: { originalMonth: string; settleMonth: string };
}

export interface ErrorBody {
  error: { kind?: ErrorKind; code: string; message: string };
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
const MUNICIPALITY_CODE = /^[0-9]{6}$/;

/** An ISO 8601 instant with offset that names a real time, by the one grammar (core/jst.ts). */
function isoTimeField(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || parseIsoInstant(value) === undefined) {
    throw inputError('request.bad_field', `field "${field}" is missing or not a real ISO 8601 time with an offset`, field);
  }
  return value;
}

/** Padded base64 that atob accepts: without the length check "abcde" passes and throws later, outside
 * the parser. A grouped regex would say the same but overflows the regex stack on a large PDF. */
function base64Field(body: Json, field: string): string {
  const value = stringField(body, field, BASE64);
  if (value.length % 4 !== 0) throw inputError('request.bad_field', `field "${field}" is not padded base64`, field);
  return value;
}

function certificateTypeField(body: Json): CertificateType {
  const value = body.certificateType;
  if (!isCertificateTypeCode(value)) {
    throw inputError('request.bad_field', 'field "certificateType" is not a certificate type code (a-z, 0-9 and -, 1 to 32)', 'certificateType');
  }
  return value;
}


/** Option key → value, at most 8, each key and value a code (core/certificate-types.ts). */
function optionsField(body: Json, required: boolean): CertificateOptions | undefined {
  const value = body.options;
  if (value === undefined && !required) return undefined;
  const bad = () => inputError('request.bad_field', `field "options" must be an object of at most ${MAX_OPTIONS} option codes and their values`, 'options');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  const entries = Object.entries(value as Json);
  if (entries.length > MAX_OPTIONS) throw bad();
  const options: CertificateOptions = {};
  for (const [key, choice] of entries) {
    if (!OPTION_KEY.test(key) || typeof choice !== 'string' || !OPTION_VALUE.test(choice)) throw bad();
    options[key] = choice;
  }
  return options;
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
    certificateDerBase64: base64Field(body, 'certificateDerBase64'),
    signatureBase64: base64Field(body, 'signatureBase64'),
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
    ...withOptions(optionsField(body, false)),
  };
}

function withOptions(options: CertificateOptions | undefined): { options?: CertificateOptions } {
  return options === undefined ? {} : { options };
}

export function parseCompletionNotice(value: unknown): CompletionNotice {
  const body = asObject(value, 'body');
  const outcome = body.outcome;
  if (outcome !== 'issued' && outcome !== 'refunded') {
    throw inputError('request.bad_field', 'field "outcome" must be "issued" or "refunded"', 'outcome');
  }
  const notice: CompletionNotice = { ...issuanceFields(body), outcome };
  if (body.voided === undefined) return notice;
  if (outcome !== 'refunded') throw inputError('request.bad_field', 'field "voided" belongs to a refunded notice only', 'voided');
  return { ...notice, voided: parseVoidedSerials(body.voided, notice.issuanceId) };
}

const CODE = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Every serial of the issuance, each once: what a misprint voids (core/certificate-serial.ts). */
function parseVoidedSerials(value: unknown, issuanceId: string): VoidedSerials {
  const body = asObject(value, 'voided');
  const serials = body.serials;
  if (!Array.isArray(serials) || serials.length < 1 || serials.length > MAX_COPIES) {
    throw inputError('request.bad_field', `field "voided.serials" must list 1 to ${MAX_COPIES} serials`, 'voided.serials');
  }
  serials.forEach((serial, index) => {
    if (typeof serial !== 'string' || parseCertificateSerial(serial)?.requestId !== issuanceId || serials.indexOf(serial) !== index) {
      throw inputError('request.bad_field', `field "voided.serials[${index}]" is not a serial of this issuance, or repeats one`, 'voided.serials');
    }
  });
  const code = body.code;
  if (typeof code !== 'string' || !CODE.test(code)) throw inputError('request.bad_field', 'field "voided.code" is missing or malformed', 'voided.code');
  return { serials: serials as string[], code };
}

/** The fields a completion notice and a supplied record share: what was issued, where and for how much. */
function issuanceFields(body: Json): Omit<HandlingRecord, 'operatorId'> {
  return {
    issuanceId: stringField(body, 'issuanceId', ID),
    issuedAt: isoTimeField(body, 'issuedAt'),
    storeId: stringField(body, 'storeId', ID),
    kioskId: stringField(body, 'kioskId', ID),
    municipalityCode: stringField(body, 'municipalityCode', MUNICIPALITY_CODE),
    certificateType: certificateTypeField(body),
    copies: integerField(body, 'copies', 0, 99),
    feeYen: integerField(body, 'feeYen', 0, 10_000_000),
  };
}

/** The centre's challenge as the kiosk receives it through the relay: never trusted unparsed. */
export function parseChallengeResponse(value: unknown): ChallengeResponse {
  const body = asObject(value, 'body');
  return {
    challengeId: stringField(body, 'challengeId', ID),
    challengeBase64: stringField(body, 'challengeBase64', /^[A-Za-z0-9+/]{16,200}={0,2}$/),
    expiresAt: isoTimeField(body, 'expiresAt'),
  };
}

export function parseCertificateData(value: unknown): CertificateData {
  const body = asObject(value, 'body');
  const copies = integerField(body, 'copies', 1, MAX_COPIES);
  return {
    requestId: stringField(body, 'requestId', ID),
    kioskId: stringField(body, 'kioskId', ID),
    residentRef: stringField(body, 'residentRef', ID),
    certificateType: certificateTypeField(body),
    title: stringField(body, 'title', /^[^\u0000-\u001f\u007f]{1,40}$/u),
    options: optionsField(body, true)!,
    copies,
    unitFeeYen: integerField(body, 'unitFeeYen', 0, 100_000),
    feeYen: integerField(body, 'feeYen', 0, 10_000_000),
    municipalityCode: stringField(body, 'municipalityCode', MUNICIPALITY_CODE),
    municipalityName: stringField(body, 'municipalityName'),
    contentSha256: stringField(body, 'contentSha256', /^[0-9a-f]{64}$/),
    pdfsBase64: pdfsField(body, copies),
  };
}

/** One padded-base64 PDF per copy. */
function pdfsField(body: Json, copies: number): string[] {
  const value = body.pdfsBase64;
  if (!Array.isArray(value) || value.length !== copies) {
    throw inputError('request.bad_field', 'field "pdfsBase64" must hold one PDF per copy', 'pdfsBase64');
  }
  return value.map((pdf: unknown, index) => {
    if (typeof pdf !== 'string' || pdf.length === 0 || pdf.length % 4 !== 0 || !BASE64.test(pdf)) {
      throw inputError('request.bad_field', `field "pdfsBase64" holds at ${index} no padded base64`, 'pdfsBase64');
    }
    return pdf;
  });
}

/**
 * The bytes the bound digest (contentSha256) is taken over: each copy's SHA-256 in copy order, so
 * no byte can move from one copy to another and every serial printed is covered by the binding.
 */
export function certificateDigestInput(copyDigests: Uint8Array[]): Uint8Array {
  return concatBytes(...copyDigests);
}

export function parseCorrectionNotice(value: unknown): CorrectionNotice {
  const body = asObject(value, 'body');
  const reason = body.reason;
  if (!(CORRECTION_REASONS as readonly unknown[]).includes(reason)) {
    throw inputError('request.bad_field', `field "reason" must be one of ${CORRECTION_REASONS.join(', ')}`, 'reason');
  }
  return {
    correctionId: stringField(body, 'correctionId', ID),
    issuanceId: stringField(body, 'issuanceId', ID),
    correctedAt: isoTimeField(body, 'correctedAt'),
    storeId: stringField(body, 'storeId', ID),
    kioskId: stringField(body, 'kioskId', ID),
    copies: integerField(body, 'copies', 0, 99),
    feeYen: integerField(body, 'feeYen', 0, 10_000_000),
    reason: reason as CorrectionReason,
  };
}

/** The operator's reconciliation result for a month, relay → centre (C§3(3), Spec§4-3). */
export function parseSettlementSubmission(value: unknown): SettlementSubmission {
  const body = asObject(value, 'body');
  const month = stringField(body, 'month', /^[0-9]{4}-(0[1-9]|1[0-2])$/);
  return {
    month,
    submittedAt: isoTimeField(body, 'submittedAt'),
    records: integerField(body, 'records', 0, 100_000_000),
    documents: integerField(body, 'documents', 0, 1_000_000_000),
    feesYen: integerField(body, 'feesYen', 0, 1_000_000_000_000),
  };
}

/** A handling record the operator supplies from its relay record, for one the centre is missing. */
export function parseSuppliedRecord(value: unknown, operatorId: string): SuppliedRecord {
  return { ...issuanceFields(asObject(value, 'body')), operatorId };
}

/** One handling record (取扱い実績データ, Spec§4) as both sides keep and exchange it. */
export interface HandlingRecord {
  issuanceId: string;
  issuedAt: string;
  operatorId: string;
  storeId: string;
  kioskId: string;
  municipalityCode: string;
  certificateType: CertificateType;
  copies: number;
  feeYen: number;
}

/** A record the centre is missing, supplied from the operator's relay: a handling record. */
export type SuppliedRecord = HandlingRecord;

export interface SettlementSubmission {
  month: string;
  submittedAt: string;
  records: number;
  documents: number;
  feesYen: number;
}

// The wire protocol's paths and headers: kiosk → relay → centre, in one place for every party.

/** Kiosk requests the relay forwards to the centre as they are. */
export const KIOSK_PATHS = {
  challenge: '/v1/auth/challenge',
  authenticate: '/v1/auth/verify',
  certificates: '/v1/certificates',
  completions: '/v1/completions',
  corrections: '/v1/corrections',
  notices: '/v1/notices',
} as const;
export const RELAYED_PATHS: readonly string[] = Object.values(KIOSK_PATHS);
/** Kiosk → relay only: the kiosk's checkpoint for the relay to witness, and the store day's cash. */
export const HEARTBEAT_PATH = '/v1/heartbeat';
export const STORE_DAY_PATH = '/v1/store-days';
/**
 * Kiosk → relay, once, at disposal (C§9-2, P5): the kiosk's last checkpoint, its final
 * `kiosk.decommissioned` entry with an inclusion proof, and the request to revoke its certificate.
 */
export const DECOMMISSION_PATH = '/v1/decommission';
/** Kiosk → relay: a device fault for the store register and the maintenance centre (docs/alerts.md). */
export const FAULT_PATH = '/v1/faults';
/** The relay names the kiosk it forwards for; the centre believes it only for that operator's kiosks. */
export const RELAY_HEADERS = { store: 'x-cvs-store-id', kiosk: 'x-cvs-kiosk-id' } as const;
/** Relay → centre: an inquiry or complaint about a certificate's content (C§16), and where one stands. */
export const INQUIRY_PATH = '/v1/inquiries';
export const INQUIRY_STATUS_PATH = '/v1/inquiries/status';
/** Relay → centre: an accident report or its update (C§15). */
export const INCIDENT_PATH = '/v1/incidents';
/** Relay → centre: the operator's own maintenance window or stop, before its kiosks are told (Spec§7-4). */
export const OPERATOR_NOTICE_PATH = '/v1/operator-notices';
/** The relay's heartbeat to the centre, which witnesses the relay's audit log. */
export const RELAY_HEARTBEAT_PATH = '/v1/relay-heartbeat';
/** The relay hands back its cosignature of the centre's checkpoint (C2SP tlog-cosignature). */
export const RELAY_COSIGNATURE_PATH = '/v1/relay-cosignature';
/** The operator's reconciliation result, relay → centre (Spec§4-3): the centre agrees or says why not. */
export const SETTLEMENT_CONFIRM_PATH = '/v1/settlement/confirm';
/** A record the centre is missing, supplied from the operator's relay record. */
export const SETTLEMENT_SUPPLY_PATH = '/v1/settlement/supply';

/** The bytes a card signs: challenge ‖ kiosk id (SPEC.md §2 step 3). */
export function signedChallengeBytes(challenge: Uint8Array, kioskId: string): Uint8Array {
  return concatBytes(challenge, utf8Encode(kioskId));
}
