// Residents as the municipality knows them, who may use the kiosk service, and what their
// certificates say. Personal data lives only here and in the municipality's store; it never reaches
// a log or an error message.

import {
  builtInDefinition,
  fiscalYearLabel,
  latestFiscalYear,
  offeredOptions,
  optionsText,
  resolveOptions,
  type CertificateOptions,
  type CertificateType,
  type CertificateTypeDefinition,
  type FieldSource,
} from './certificate-types.ts';
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
  /** The latest tax year's figures (core/certificate-types.ts latestFiscalYear). */
  taxableIncomeYen?: number;
  residentTaxYen?: number;
  /** Figures of earlier (or the latest) tax years, for a 所得・課税証明書 of a chosen 年度. */
  taxYears?: TaxYearRecord[];
  /** 個人番号, 12 digits: printed only when the resident asks and the municipality allows it. */
  myNumber?: string;
  /** The other members of the household, for a 住民票 of 世帯全員. */
  household?: HouseholdMember[];
}

export interface TaxYearRecord {
  fiscalYear: number;
  taxableIncomeYen: number;
  residentTaxYen: number;
}

export interface HouseholdMember {
  name: string;
  kana: string;
  birthDate: string; // YYYY-MM-DD
  sex: '男' | '女';
  relationship: string;
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
  /** The options chosen, as a person reads them under the title: 世帯全員／本籍・筆頭者 記載. */
  optionsText?: string;
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

function yenText(yen: number): string {
  return `${yen.toLocaleString('en-US')}円`;
}

/** The figures of the tax year chosen: from taxYears, or the flat figures for the latest year. */
function taxRecordFor(resident: Resident, options: CertificateOptions, atMs: number): TaxYearRecord | undefined {
  const fiscalYear = Number(options.fiscalYear ?? latestFiscalYear(atMs));
  const kept = resident.taxYears?.find((entry) => entry.fiscalYear === fiscalYear);
  if (kept) return kept;
  if (fiscalYear !== latestFiscalYear(atMs) || resident.taxableIncomeYen === undefined || resident.residentTaxYen === undefined) return undefined;
  return { fiscalYear, taxableIncomeYen: resident.taxableIncomeYen, residentTaxYen: resident.residentTaxYen };
}

/** The text of one field, or undefined when the record does not hold it (the certificate is refused). */
function fieldValue(resident: Resident, source: FieldSource, tax: () => TaxYearRecord | undefined): string | undefined {
  switch (source) {
    case 'birthDate':
    case 'residentSince':
      return japaneseDate(resident[source]);
    case 'headOfFamily':
      return resident.headOfFamily ?? (resident.honseki === undefined ? undefined : resident.name);
    case 'fiscalYear': {
      const record = tax();
      return record && fiscalYearLabel(record.fiscalYear);
    }
    case 'taxableIncomeYen':
    case 'residentTaxYen': {
      const record = tax();
      return record && yenText(record[source]);
    }
    case 'household':
      return undefined;
    default:
      return resident[source];
  }
}

/** 世帯全員: each other member of the household, as four lines under a numbered heading. */
function householdFields(resident: Resident): CertificateField[] {
  return (resident.household ?? []).flatMap((member, index) => [
    { label: `世帯員${index + 2} 氏名`, value: member.name },
    { label: '生年月日', value: japaneseDate(member.birthDate) },
    { label: '性別', value: member.sex },
    { label: '続柄', value: member.relationship },
  ]);
}

/** The fields a certificate of this definition shows with these options, in the definition's order. */
export function fieldsFor(resident: Resident, definition: CertificateTypeDefinition, options: CertificateOptions, atMs: number): CertificateField[] {
  let taxRecord: TaxYearRecord | undefined | null = null;
  const tax = () => (taxRecord === null ? (taxRecord = taxRecordFor(resident, options, atMs)) : taxRecord);
  const fields: CertificateField[] = [];
  for (const field of definition.fields) {
    if (field.when && !field.when.values.includes(options[field.when.option] ?? '')) continue;
    if (field.source === 'household') {
      fields.push(...householdFields(resident));
      continue;
    }
    const value = fieldValue(resident, field.source, tax);
    if (value === undefined) throw new AppError('refused', 'certificate.not_on_record', `the municipality's record holds no ${field.label} for this certificate`, field.label);
    fields.push({ label: field.label, value });
  }
  return fields;
}

export function certificateContent(input: {
  resident: Resident;
  type: CertificateType;
  /** Default: the built-in definition of `type`. */
  definition?: CertificateTypeDefinition;
  /** The request's resolved options (core/certificate-types.ts resolveOptions); default: none chosen. */
  options?: CertificateOptions;
  mayorTitle: string;
  municipalityCode: string;
  requestId: string;
  kioskId: string;
  copies: number;
  atMs: number;
  issuedOnText: string;
}): CertificateContent {
  const definition = input.definition ?? builtInDefinition(input.type);
  if (!definition) throw new AppError('internal', 'type.undefined', `certificate type ${input.type} has no definition`, input.type);
  const options = resolveOptions(offeredOptions(definition, undefined, input.atMs), input.options);
  const chosen = optionsText(definition, options, input.atMs);
  return {
    title: definition.title,
    ...(chosen === '' ? {} : { optionsText: chosen }),
    municipalityName: input.mayorTitle,
    fields: fieldsFor(input.resident, definition, options, input.atMs),
    certifiedText: definition.certifiedText,
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
  const known = new Set(['residentId', 'municipalityCode', 'honsekiCode', 'status', 'supportMeasure', 'name', 'kana', 'birthDate', 'sex', 'address', 'householder', 'relationship', 'residentSince', ...OPTIONAL_TEXT_FIELDS, ...OPTIONAL_YEN_FIELDS, 'myNumber', 'household', 'taxYears']);
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
  if (record.myNumber !== undefined) resident.myNumber = text('myNumber', /^\d{12}$/);
  if (record.household !== undefined) resident.household = parseHousehold(record.household, bad);
  if (record.taxYears !== undefined) resident.taxYears = parseTaxYears(record.taxYears, bad);
  return resident;
}

/**
 * A back end's list of records (`household`, `taxYears`): at most 20 objects with only the named
 * keys; a bad one is refused by its path (`household[0]`, `taxYears[1].extra`).
 */
function recordsOf(value: unknown, name: string, keys: readonly string[], bad: (field: string) => AppError): { entry: Record<string, unknown>; where: string }[] {
  if (!Array.isArray(value) || value.length > 20) throw bad(name);
  return value.map((item: unknown, index) => {
    const where = `${name}[${index}]`;
    if (typeof item !== 'object' || item === null) throw bad(where);
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!keys.includes(key)) throw bad(`${where}.${key.slice(0, 32)}`);
    return { entry, where };
  });
}

function parseHousehold(value: unknown, bad: (field: string) => AppError): HouseholdMember[] {
  return recordsOf(value, 'household', ['name', 'kana', 'birthDate', 'sex', 'relationship'], bad).map(({ entry, where }) => {
    const text = (field: string, pattern: RegExp = TEXT): string => {
      const found = entry[field];
      if (typeof found !== 'string' || !pattern.test(found)) throw bad(`${where}.${field}`);
      return found;
    };
    const birthDate = text('birthDate', DATE);
    if (!isIsoDate(birthDate)) throw bad(`${where}.birthDate`);
    return { name: text('name'), kana: text('kana'), birthDate, sex: text('sex', /^(男|女)$/) as HouseholdMember['sex'], relationship: text('relationship') };
  });
}

function parseTaxYears(value: unknown, bad: (field: string) => AppError): TaxYearRecord[] {
  return recordsOf(value, 'taxYears', ['fiscalYear', 'taxableIncomeYen', 'residentTaxYen'], bad).map(({ entry: record, where }) => {
    const whole = (field: string, min: number, max: number): number => {
      const found = record[field];
      if (typeof found !== 'number' || !Number.isSafeInteger(found) || found < min || found > max) throw bad(`${where}.${field}`);
      return found;
    };
    return { fiscalYear: whole('fiscalYear', 1989, 2100), taxableIncomeYen: whole('taxableIncomeYen', 0, Number.MAX_SAFE_INTEGER), residentTaxYen: whole('residentTaxYen', 0, Number.MAX_SAFE_INTEGER) };
  });
}
