// Residents as the municipality knows them, who may use the kiosk service, and what their
// certificates say. Personal data lives only here and in the municipality's store; it never reaches
// a log or an error message.

import { CERTIFICATE_TITLES, type CertificateType } from './certificate-types.ts';
import { certificateSerials } from './certificate-serial.ts';
import { AppError } from './errors.ts';
import { isIsoDate, jstParts } from './jst.ts';

export type ResidentStatus = 'active' | 'moved-out';

export interface Resident {
  residentId: string;
  municipalityCode: string;
  /** 本籍地 municipality when registered there (for 戸籍). */
  honsekiCode?: string;
  status: ResidentStatus;
  /** 支援措置 (DV and stalking protection): no kiosk issuance. */
  supportMeasure: boolean;
  name: string;
  kana: string;
  birthDate: string; // YYYY-MM-DD
  sex: '男' | '女';
  address: string;
  householder: string;
  relationship: string;
  residentSince: string; // YYYY-MM-DD
  honseki?: string;
  headOfFamily?: string;
  sealRegistrationNumber?: string;
  taxableIncomeYen?: number;
  residentTaxYen?: number;
}

export const MINIMUM_AGE_YEARS = 15;
/** Longer names do not fit the kiosk layout and are issued at the counter (Spec§8-2). */
export const MAXIMUM_NAME_LENGTH = 30;

export function ageOn(birthDate: string, atMs: number): number {
  const today = jstParts(atMs);
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  const hadBirthday = today.month > month || (today.month === month && today.day >= day);
  return today.year - year - (hadBirthday ? 0 : 1);
}

/** Throws a refusal naming the rule (never the person) when the resident cannot use a kiosk. */
export function assertEligible(resident: Resident, atMs: number): void {
  if (resident.status !== 'active') {
    throw new AppError('refused', 'resident.moved_out', 'the resident record is not active in this municipality');
  }
  if (resident.supportMeasure) {
    throw new AppError('refused', 'resident.support_measure', 'issuance at kiosks is suspended for this record');
  }
  if (ageOn(resident.birthDate, atMs) < MINIMUM_AGE_YEARS) {
    throw new AppError('refused', 'resident.under_age', `the service is for residents aged ${MINIMUM_AGE_YEARS} or over`);
  }
  if ([...resident.name].length > MAXIMUM_NAME_LENGTH) {
    throw new AppError('refused', 'resident.name_too_long', 'the name does not fit the kiosk certificate layout');
  }
}

export interface CertificateField {
  label: string;
  value: string;
}

export interface CertificateContent {
  /** e.g. 住民票の写し */
  title: string;
  /** The certifying mayor, e.g. 千代田区長; the seal reads 「千代田区長之印」. */
  municipalityName: string;
  /** 氏名, 生年月日, 住所 …; values may hold 髙﨑𠮷. */
  fields: CertificateField[];
  certifiedText: string;
  /** Already formatted, e.g. 令和8年11月27日. */
  issuedOnText: string;
  requestId: string;
  kioskId: string;
  /** Whose certificate and of what type: the statement each copy carries names both (docs/documents.md). */
  municipalityCode: string;
  certificateType: CertificateType;
  /** One per copy, in copy order: each copy is a PDF of its own showing its serial and n/N (C§9). */
  serials: string[];
  /** Becomes the PDF's CreationDate and ModDate, so the same content gives the same bytes. */
  createdAtMs: number;
}

function japaneseDate(isoDate: string): string {
  const [year, month, day] = isoDate.split('-').map(Number);
  return `${year}年${month}月${day}日`;
}

function fieldsFor(resident: Resident, type: CertificateType): CertificateField[] {
  const identity = [
    { label: '氏名', value: resident.name },
    { label: 'ふりがな', value: resident.kana },
    { label: '生年月日', value: japaneseDate(resident.birthDate) },
  ];
  switch (type) {
    case 'juminhyo':
    case 'juminhyo-kisai':
      return [
        ...identity,
        { label: '性別', value: resident.sex },
        { label: '住所', value: resident.address },
        { label: '世帯主', value: resident.householder },
        { label: '続柄', value: resident.relationship },
        { label: '住民となった日', value: japaneseDate(resident.residentSince) },
      ];
    case 'inkan':
      return [
        ...identity,
        { label: '住所', value: resident.address },
        { label: '登録番号', value: resident.sealRegistrationNumber ?? '' },
      ];
    case 'koseki-zenbu':
    case 'koseki-kojin':
      return [
        { label: '本籍', value: resident.honseki ?? '' },
        { label: '筆頭者', value: resident.headOfFamily ?? resident.name },
        ...identity,
        { label: '性別', value: resident.sex },
      ];
    case 'fuhyo':
      return [
        { label: '本籍', value: resident.honseki ?? '' },
        ...identity,
        { label: '住所', value: resident.address },
        { label: '住所を定めた日', value: japaneseDate(resident.residentSince) },
      ];
    case 'shotoku-kazei':
      return [
        ...identity,
        { label: '住所', value: resident.address },
        { label: '総所得金額', value: `${(resident.taxableIncomeYen ?? 0).toLocaleString('en-US')}円` },
        { label: '市町村民税額', value: `${(resident.residentTaxYen ?? 0).toLocaleString('en-US')}円` },
      ];
  }
}

const CERTIFIED_TEXT: Record<CertificateType, string> = {
  juminhyo: 'この写しは、住民票の原本と相違ないことを証明する。',
  'juminhyo-kisai': '上記の事項は、住民票に記載されている事項と相違ないことを証明する。',
  inkan: 'この写しは、登録された印影と相違ないことを証明する。',
  'koseki-zenbu': 'これは、戸籍に記録されている事項の全部を証明した書面である。',
  'koseki-kojin': 'これは、戸籍中の一部の者について記録されている事項を証明した書面である。',
  fuhyo: 'この写しは、戸籍の附票の原本と相違ないことを証明する。',
  'shotoku-kazei': '上記のとおり相違ないことを証明する。',
};

export function certificateContent(input: {
  resident: Resident;
  type: CertificateType;
  mayorTitle: string;
  municipalityCode: string;
  requestId: string;
  kioskId: string;
  copies: number;
  atMs: number;
  issuedOnText: string;
}): CertificateContent {
  return {
    title: CERTIFICATE_TITLES[input.type],
    municipalityName: input.mayorTitle,
    fields: fieldsFor(input.resident, input.type),
    certifiedText: CERTIFIED_TEXT[input.type],
    issuedOnText: input.issuedOnText,
    requestId: input.requestId,
    kioskId: input.kioskId,
    municipalityCode: input.municipalityCode,
    certificateType: input.type,
    serials: certificateSerials(input.requestId, input.copies),
    createdAtMs: input.atMs,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TEXT = /^[^\u0000-\u001f\u007f]{1,200}$/u;
const OPTIONAL_TEXT_FIELDS = ['honseki', 'headOfFamily', 'sealRegistrationNumber'] as const;
const OPTIONAL_YEN_FIELDS = ['taxableIncomeYen', 'residentTaxYen'] as const;

/**
 * A resident record as a municipality's back end sends it (docs/municipality-backend.md), checked
 * field by field: what does not fit is refused by the field's name, never by its value (personal
 * data stays out of errors). Unknown fields are refused too, so a back end that sends more than it
 * should is found out.
 */
export function parseResidentRecord(value: unknown): Resident {
  const bad = (field: string) => new AppError('input', 'resident.bad_record', `the resident record's "${field}" is missing or malformed`, field);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('resident');
  const record = value as Record<string, unknown>;
  const text = (field: string, pattern: RegExp = TEXT): string => {
    const found = record[field];
    if (typeof found !== 'string' || !pattern.test(found)) throw bad(field);
    return found;
  };
  const known = new Set(['residentId', 'municipalityCode', 'honsekiCode', 'status', 'supportMeasure', 'name', 'kana', 'birthDate', 'sex', 'address', 'householder', 'relationship', 'residentSince', ...OPTIONAL_TEXT_FIELDS, ...OPTIONAL_YEN_FIELDS]);
  for (const field of Object.keys(record)) if (!known.has(field)) throw bad(field);
  const status = text('status', /^(active|moved-out)$/) as ResidentStatus;
  const sex = text('sex', /^(男|女)$/) as Resident['sex'];
  if (typeof record.supportMeasure !== 'boolean') throw bad('supportMeasure');
  for (const field of ['birthDate', 'residentSince']) if (!isIsoDate(text(field, DATE))) throw bad(field);
  const resident: Resident = {
    residentId: text('residentId', /^[A-Za-z0-9_-]{1,40}$/),
    municipalityCode: text('municipalityCode', /^\d{6}$/),
    status,
    supportMeasure: record.supportMeasure,
    name: text('name'),
    kana: text('kana'),
    birthDate: record.birthDate as string,
    sex,
    address: text('address'),
    householder: text('householder'),
    relationship: text('relationship'),
    residentSince: record.residentSince as string,
  };
  if (record.honsekiCode !== undefined) resident.honsekiCode = text('honsekiCode', /^\d{6}$/);
  for (const field of OPTIONAL_TEXT_FIELDS) if (record[field] !== undefined) resident[field] = text(field);
  for (const field of OPTIONAL_YEN_FIELDS) {
    const yen = record[field];
    if (yen === undefined) continue;
    if (typeof yen !== 'number' || !Number.isSafeInteger(yen) || yen < 0) throw bad(field);
    resident[field] = yen;
  }
  return resident;
}
