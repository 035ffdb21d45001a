// Certificate types as data (C§22: each municipality sets the types it issues). A type is a
// definition: its title, who issues it (住所地 or 本籍地), the resident fields its certificate shows,
// the sentence that certifies it, and the options a resident chooses at the kiosk (世帯全員/一部,
// 本籍・筆頭者, 続柄, 個人番号, the tax year). The seven types of the interchange format (SPEC.md §4)
// are built in, written in the same form; a municipality's offer may carry a definition of its
// own for any other code (docs/certificate-types.md), so adding a type needs no code change.

import { AppError, inputError } from './errors.ts';
import { jstParts } from './jst.ts';

/** A type's code in messages, records and the CSV: lower-case letters, digits and '-', 1–32. */
export type CertificateType = string;

/** The seven types SPEC.md §4 names, in their interchange order. */
export const CERTIFICATE_TYPES = [
  'juminhyo',
  'juminhyo-kisai',
  'inkan',
  'koseki-zenbu',
  'koseki-kojin',
  'fuhyo',
  'shotoku-kazei',
] as const;

export type StandardCertificateType = (typeof CERTIFICATE_TYPES)[number];

const TYPE_CODE = /^[a-z][a-z0-9-]{0,31}$/;
/** An option's key (household, fiscalYear) and a value of it (all, 2025): what messages, records and the CSV carry. */
export const OPTION_KEY = /^[a-zA-Z][a-zA-Z0-9]{0,31}$/;
export const OPTION_VALUE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** At most this many options per type, so per request. */
export const MAX_OPTIONS = 8;
const LABEL = /^[^\u0000-\u001f\u007f]{1,40}$/u;
const SENTENCE = /^[^\u0000-\u001f\u007f]{1,200}$/u;

export function isCertificateTypeCode(value: unknown): value is CertificateType {
  return typeof value === 'string' && TYPE_CODE.test(value);
}

/** Where a field's value comes from in the resident's record (core/resident.ts Resident). */
export const FIELD_SOURCES = [
  'name',
  'kana',
  'birthDate',
  'sex',
  'address',
  'householder',
  'relationship',
  'residentSince',
  'honseki',
  'headOfFamily',
  'sealRegistrationNumber',
  'myNumber',
  /** The other members of the household, each with 氏名, 生年月日, 性別 and 続柄 (世帯全員). */
  'household',
  /** The chosen tax year's figures (option kind fiscal-year). */
  'fiscalYear',
  'taxableIncomeYen',
  'residentTaxYen',
] as const;
export type FieldSource = (typeof FIELD_SOURCES)[number];

export interface FieldDefinition {
  label: string;
  source: FieldSource;
  /** Shown only when the option `option` has one of `values` (e.g. 本籍 only with honseki=shown). */
  when?: { option: string; values: string[] };
}

export interface OptionChoice {
  value: string;
  label: string;
}

export type OptionDefinition =
  | { key: string; label: string; kind: 'choice'; choices: OptionChoice[]; default: string }
  /** The 年度 of a tax certificate: the latest one issued (from June of its year) and `years` − 1 before it. */
  | { key: string; label: string; kind: 'fiscal-year'; years: number };

export interface CertificateTypeDefinition {
  /** e.g. 住民票の写し */
  title: string;
  /** 戸籍 and 附票 come from the 本籍地, everything else from the 住所地. */
  issuedBy: 'residence' | 'honseki';
  certifiedText: string;
  fields: FieldDefinition[];
  options: OptionDefinition[];
}

/** The options of one request, every key of the type given (defaults filled in). */
export type CertificateOptions = Record<string, string>;

const SHOWN_OMITTED = (label: string, fallback: 'shown' | 'omitted'): OptionDefinition => ({
  key: '',
  label,
  kind: 'choice',
  choices: [
    { value: 'omitted', label: '省略' },
    { value: 'shown', label: '記載' },
  ],
  default: fallback,
});

function option(key: string, definition: OptionDefinition): OptionDefinition {
  return { ...definition, key };
}

const IDENTITY: FieldDefinition[] = [
  { label: '氏名', source: 'name' },
  { label: 'ふりがな', source: 'kana' },
  { label: '生年月日', source: 'birthDate' },
];

/** 住民票's options: the household (世帯全員/本人のみ), 世帯主・続柄, 本籍・筆頭者 and 個人番号. */
const JUMINHYO_OPTIONS: OptionDefinition[] = [
  {
    key: 'household',
    label: '世帯',
    kind: 'choice',
    choices: [
      { value: 'self', label: '本人のみ' },
      { value: 'all', label: '世帯全員' },
    ],
    default: 'self',
  },
  option('relationship', SHOWN_OMITTED('世帯主・続柄', 'shown')),
  option('honseki', SHOWN_OMITTED('本籍・筆頭者', 'omitted')),
  option('myNumber', SHOWN_OMITTED('個人番号', 'omitted')),
];

const JUMINHYO_FIELDS: FieldDefinition[] = [
  ...IDENTITY,
  { label: '性別', source: 'sex' },
  { label: '住所', source: 'address' },
  { label: '世帯主', source: 'householder', when: { option: 'relationship', values: ['shown'] } },
  { label: '続柄', source: 'relationship', when: { option: 'relationship', values: ['shown'] } },
  { label: '住民となった日', source: 'residentSince' },
  { label: '本籍', source: 'honseki', when: { option: 'honseki', values: ['shown'] } },
  { label: '筆頭者', source: 'headOfFamily', when: { option: 'honseki', values: ['shown'] } },
  { label: '個人番号', source: 'myNumber', when: { option: 'myNumber', values: ['shown'] } },
  { label: '世帯員', source: 'household', when: { option: 'household', values: ['all'] } },
];

export const BUILT_IN_TYPES: Readonly<Record<StandardCertificateType, CertificateTypeDefinition>> = {
  juminhyo: {
    title: '住民票の写し',
    issuedBy: 'residence',
    certifiedText: 'この写しは、住民票の原本と相違ないことを証明する。',
    fields: JUMINHYO_FIELDS,
    options: JUMINHYO_OPTIONS,
  },
  'juminhyo-kisai': {
    title: '住民票記載事項証明書',
    issuedBy: 'residence',
    certifiedText: '上記の事項は、住民票に記載されている事項と相違ないことを証明する。',
    fields: JUMINHYO_FIELDS.filter((field) => field.source !== 'household' && field.source !== 'myNumber'),
    options: JUMINHYO_OPTIONS.filter((entry) => entry.key === 'relationship' || entry.key === 'honseki'),
  },
  inkan: {
    title: '印鑑登録証明書',
    issuedBy: 'residence',
    certifiedText: 'この写しは、登録された印影と相違ないことを証明する。',
    fields: [...IDENTITY, { label: '住所', source: 'address' }, { label: '登録番号', source: 'sealRegistrationNumber' }],
    options: [],
  },
  'koseki-zenbu': {
    title: '戸籍全部事項証明書',
    issuedBy: 'honseki',
    certifiedText: 'これは、戸籍に記録されている事項の全部を証明した書面である。',
    fields: [{ label: '本籍', source: 'honseki' }, { label: '筆頭者', source: 'headOfFamily' }, ...IDENTITY, { label: '性別', source: 'sex' }],
    options: [],
  },
  'koseki-kojin': {
    title: '戸籍個人事項証明書',
    issuedBy: 'honseki',
    certifiedText: 'これは、戸籍中の一部の者について記録されている事項を証明した書面である。',
    fields: [{ label: '本籍', source: 'honseki' }, { label: '筆頭者', source: 'headOfFamily' }, ...IDENTITY, { label: '性別', source: 'sex' }],
    options: [],
  },
  fuhyo: {
    title: '戸籍の附票の写し',
    issuedBy: 'honseki',
    certifiedText: 'この写しは、戸籍の附票の原本と相違ないことを証明する。',
    fields: [{ label: '本籍', source: 'honseki' }, ...IDENTITY, { label: '住所', source: 'address' }, { label: '住所を定めた日', source: 'residentSince' }],
    options: [],
  },
  'shotoku-kazei': {
    title: '所得・課税証明書',
    issuedBy: 'residence',
    certifiedText: '上記のとおり相違ないことを証明する。',
    fields: [
      ...IDENTITY,
      { label: '住所', source: 'address' },
      { label: '年度', source: 'fiscalYear' },
      { label: '総所得金額', source: 'taxableIncomeYen' },
      { label: '市町村民税額', source: 'residentTaxYen' },
    ],
    options: [{ key: 'fiscalYear', label: '年度', kind: 'fiscal-year', years: 5 }],
  },
};

export function isStandardCertificateType(value: unknown): value is StandardCertificateType {
  return typeof value === 'string' && (CERTIFICATE_TYPES as readonly string[]).includes(value);
}

/** The built-in definition of a standard code; undefined for any other code. */
export function builtInDefinition(type: CertificateType): CertificateTypeDefinition | undefined {
  return isStandardCertificateType(type) ? BUILT_IN_TYPES[type] : undefined;
}

// Tax years (年度). A 所得・課税証明書 of 年度 Y certifies the income of Y − 1 and is issued from
// June of Y, when the municipality has assessed it (地方税法 §41: 6月から).

/** The latest 年度 whose tax certificate is issued at `atMs` (JST). */
export function latestFiscalYear(atMs: number): number {
  const { year, month } = jstParts(atMs);
  return month >= 6 ? year : year - 1;
}

/** 2026 → 令和8年度; 2019 → 令和元年度; 2018 → 平成30年度. */
export function fiscalYearLabel(year: number): string {
  if (year >= 2019) return `令和${year === 2019 ? '元' : year - 2018}年度`;
  return `平成${year - 1988}年度`;
}

/** The values an option can take at `atMs`: its choices, or the tax years newest first. */
export function optionChoices(definition: OptionDefinition, atMs: number): OptionChoice[] {
  if (definition.kind === 'choice') return definition.choices;
  const latest = latestFiscalYear(atMs);
  return Array.from({ length: definition.years }, (_, index) => ({ value: String(latest - index), label: fiscalYearLabel(latest - index) }));
}

export function optionDefault(definition: OptionDefinition, atMs: number): string {
  return definition.kind === 'choice' ? definition.default : String(latestFiscalYear(atMs));
}

/** The options of a type narrowed by a municipality's limits (allowed values per key). */
export interface OfferedOption {
  key: string;
  label: string;
  choices: OptionChoice[];
  default: string;
}

export function offeredOptions(definition: CertificateTypeDefinition, limits: Record<string, string[]> | undefined, atMs: number): OfferedOption[] {
  return definition.options.map((entry) => {
    const allowed = limits?.[entry.key];
    const choices = optionChoices(entry, atMs).filter((choice) => allowed === undefined || allowed.includes(choice.value));
    const fallback = optionDefault(entry, atMs);
    return { key: entry.key, label: entry.label, choices, default: choices.some((choice) => choice.value === fallback) ? fallback : (choices[0]?.value ?? fallback) };
  });
}

/**
 * A request's options against what is offered: every key known, every value allowed, defaults for
 * the rest. Throws a refusal naming the option (never a value a person typed beyond its key).
 */
export function resolveOptions(offered: OfferedOption[], requested: CertificateOptions | undefined): CertificateOptions {
  const given = requested ?? {};
  for (const key of Object.keys(given)) {
    if (!offered.some((entry) => entry.key === key)) throw inputError('request.option_unknown', `this certificate has no option "${key}"`, key);
  }
  const resolved: CertificateOptions = {};
  for (const entry of offered) {
    const value = Object.hasOwn(given, entry.key) ? given[entry.key]! : entry.default;
    if (!entry.choices.some((choice) => choice.value === value)) {
      throw new AppError('refused', 'request.option_not_offered', `the municipality does not issue this certificate with this ${entry.label} at kiosks`, entry.key);
    }
    resolved[entry.key] = value;
  }
  return resolved;
}

/** household=all;honseki=shown — the options in key order, as records and the CSV carry them. */
export function formatOptions(options: CertificateOptions | undefined): string {
  if (!options) return '';
  return Object.keys(options)
    .sort()
    .map((key) => `${key}=${options[key]}`)
    .join(';');
}

/** The inverse of formatOptions; undefined when the text is not key=value pairs separated by ';'. */
export function parseOptionsText(text: string): CertificateOptions | undefined {
  if (text === '') return {};
  const options: CertificateOptions = {};
  for (const pair of text.split(';')) {
    const equals = pair.indexOf('=');
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    if (equals < 0 || !OPTION_KEY.test(key) || !OPTION_VALUE.test(value) || Object.hasOwn(options, key)) return undefined;
    options[key] = value;
  }
  if (Object.keys(options).length > MAX_OPTIONS) return undefined;
  return options;
}

/**
 * What a person reads under the title about the options: the tax year always, and every other
 * option chosen away from its default (世帯全員／本籍・筆頭者 記載 / 令和7年度); '' when all are defaults.
 */
export function optionsText(definition: CertificateTypeDefinition, options: CertificateOptions, atMs: number): string {
  return definition.options
    .filter((entry) => entry.kind === 'fiscal-year' || options[entry.key] !== entry.default)
    .map((entry) => {
      const value = options[entry.key];
      const choice = optionChoices(entry, atMs).find((candidate) => candidate.value === value);
      if (entry.kind === 'fiscal-year') return choice?.label ?? (value ? fiscalYearLabel(Number(value)) : '');
      return entry.key === 'household' ? (choice?.label ?? '') : `${entry.label} ${choice?.label ?? value ?? ''}`;
    })
    .filter((text) => text !== '')
    .join('／');
}

/**
 * A definition as a municipality gives it (an offer's `definition`, JSON), checked field by field;
 * `where` names the file and entry in the error.
 */
export function parseCertificateTypeDefinition(raw: unknown, where: string): CertificateTypeDefinition {
  const bad = (what: string) => inputError('type.bad_definition', `the type definition's ${what}`, where);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('is not an object');
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!['title', 'issuedBy', 'certifiedText', 'fields', 'options'].includes(key)) throw bad(`"${key.slice(0, 32)}" is not a field of a definition`);
  if (typeof record.title !== 'string' || !LABEL.test(record.title)) throw bad('"title" must be 1 to 40 characters');
  if (record.issuedBy !== 'residence' && record.issuedBy !== 'honseki') throw bad('"issuedBy" must be "residence" or "honseki"');
  if (typeof record.certifiedText !== 'string' || !SENTENCE.test(record.certifiedText)) throw bad('"certifiedText" must be 1 to 200 characters');
  const options = parseOptionDefinitions(record.options ?? [], bad);
  if (!Array.isArray(record.fields) || record.fields.length === 0 || record.fields.length > 40) throw bad('"fields" must be a list of 1 to 40 fields');
  const fields = record.fields.map((field, index) => parseField(field, index, options, bad));
  return { title: record.title, issuedBy: record.issuedBy, certifiedText: record.certifiedText, fields, options };
}

function parseOptionDefinitions(raw: unknown, bad: (what: string) => Error): OptionDefinition[] {
  if (!Array.isArray(raw) || raw.length > MAX_OPTIONS) throw bad(`"options" must be a list of at most ${MAX_OPTIONS} options`);
  const options = raw.map((entry, index): OptionDefinition => {
    const at = `options[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw bad(`${at} is not an object`);
    const { key, label, kind } = entry as Record<string, unknown>;
    if (typeof key !== 'string' || !OPTION_KEY.test(key) || key in Object.prototype) throw bad(`${at}.key must be letters and digits, starting with a letter, and not a name every object has (toString …)`);
    if (typeof label !== 'string' || !LABEL.test(label)) throw bad(`${at}.label must be 1 to 40 characters`);
    if (kind === 'fiscal-year') {
      const years = (entry as { years?: unknown }).years;
      if (!Number.isSafeInteger(years) || (years as number) < 1 || (years as number) > 10) throw bad(`${at}.years must be 1 to 10`);
      return { key, label, kind, years: years as number };
    }
    if (kind !== 'choice') throw bad(`${at}.kind must be "choice" or "fiscal-year"`);
    const { choices, default: fallback } = entry as { choices?: unknown; default?: unknown };
    if (!Array.isArray(choices) || choices.length < 1 || choices.length > 10) throw bad(`${at}.choices must be a list of 1 to 10 choices`);
    const parsed = choices.map((choice, choiceIndex) => {
      const { value, label: choiceLabel } = (choice ?? {}) as Record<string, unknown>;
      if (typeof value !== 'string' || !OPTION_VALUE.test(value)) throw bad(`${at}.choices[${choiceIndex}].value must be lower-case letters, digits and '-'`);
      if (typeof choiceLabel !== 'string' || !LABEL.test(choiceLabel)) throw bad(`${at}.choices[${choiceIndex}].label must be 1 to 40 characters`);
      return { value, label: choiceLabel };
    });
    if (new Set(parsed.map((choice) => choice.value)).size !== parsed.length) throw bad(`${at}.choices repeat a value`);
    if (typeof fallback !== 'string' || !parsed.some((choice) => choice.value === fallback)) throw bad(`${at}.default must be one of its choices' values`);
    return { key, label, kind, choices: parsed, default: fallback };
  });
  if (new Set(options.map((entry) => entry.key)).size !== options.length) throw bad('"options" repeat a key');
  return options;
}

function parseField(raw: unknown, index: number, options: OptionDefinition[], bad: (what: string) => Error): FieldDefinition {
  const at = `fields[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw bad(`${at} is not an object`);
  const { label, source, when } = raw as Record<string, unknown>;
  if (typeof label !== 'string' || !LABEL.test(label)) throw bad(`${at}.label must be 1 to 40 characters`);
  if (typeof source !== 'string' || !(FIELD_SOURCES as readonly string[]).includes(source)) throw bad(`${at}.source must be one of ${FIELD_SOURCES.join(', ')}`);
  if (when === undefined) return { label, source: source as FieldSource };
  const { option: key, values } = (when ?? {}) as Record<string, unknown>;
  const target = options.find((entry) => entry.key === key);
  if (!target || target.kind !== 'choice') throw bad(`${at}.when.option must name a choice option of the type`);
  if (!Array.isArray(values) || values.length === 0 || !values.every((value) => target.choices.some((choice) => choice.value === value))) throw bad(`${at}.when.values must be values of option "${target.key}"`);
  return { label, source: source as FieldSource, when: { option: target.key, values: values as string[] } };
}

/**
 * A municipality's limits on one type's options (e.g. { "myNumber": ["omitted"] }: no 住民票 with
 * 個人番号 at a kiosk), checked against the definition.
 */
export function parseOptionLimits(raw: unknown, definition: CertificateTypeDefinition, where: string): Record<string, string[]> {
  const bad = (what: string) => inputError('type.bad_limits', `the offer's limits ${what}`, where);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('are not an object of option keys');
  const limits: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(raw as Record<string, unknown>)) {
    const target = definition.options.find((entry) => entry.key === key);
    if (!target) throw bad(`name "${key.slice(0, 32)}", which is not an option of the type`);
    if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'string' && (target.kind === 'fiscal-year' ? /^\d{4}$/.test(value) : target.choices.some((choice) => choice.value === value)))) {
      throw bad(`for "${key}" must be a non-empty list of its values`);
    }
    limits[key] = values as string[];
  }
  return limits;
}
