// The fixtures in fixtures/ are embedded in the binary (JSON imports), validated here, and turned
// into core types. A broken fixture names the file and the entry.

import municipalitiesFile from '../fixtures/municipalities.json' with { type: 'json' };
import operatorsFile from '../fixtures/operators.json' with { type: 'json' };
import residentsFile from '../fixtures/residents.json' with { type: 'json' };
import syntheticFile from '../fixtures/synthetic-residents.json' with { type: 'json' };
import { builtInDefinition, isCertificateTypeCode, parseCertificateTypeDefinition, parseOptionLimits, CERTIFICATE_TYPES } from '../core/certificate-types.ts';
import { inputError } from '../core/errors.ts';
import type { CardKind } from '../core/jpki.ts';
import { isValidMunicipalityCode, parseClockMinutes, type CertificateOffer, type Municipality } from '../core/municipality.ts';
import type { Resident } from '../core/resident.ts';

export type CardValidity = 'valid' | 'expired' | 'revoked';

export interface FixtureCard {
  cardId: string;
  pin: string;
  kind: CardKind;
  validity: CardValidity;
}

export interface FixtureResident {
  resident: Resident;
  card: FixtureCard;
}

export interface FixtureStore {
  storeId: string;
  storeName: string;
  kiosks: string[];
}

export interface FixtureOperator {
  operatorId: string;
  name: string;
  relayListen: string;
  stores: FixtureStore[];
}

export interface RawOffer {
  type: string;
  unitFeeYen: number;
  hours?: { start: string; end: string; weekdaysOnly: boolean; closedOnHolidays: boolean };
  /** A type of the municipality's own (docs/certificate-types.md); the seven built in need none. */
  definition?: unknown;
  /** Option key → the values it issues at kiosks, e.g. { "myNumber": ["omitted"] }. */
  limits?: unknown;
}

/** An offer as the fixtures and `center municipality add --offers-file` write it. */
export function offerFromRaw(raw: RawOffer, where: string): CertificateOffer {
  if (!isCertificateTypeCode(raw.type)) throw inputError('fixture.bad', 'type must be a code of a-z, 0-9 and -, 1 to 32 long', where);
  if (!Number.isSafeInteger(raw.unitFeeYen) || raw.unitFeeYen < 0) throw inputError('fixture.bad', 'unitFeeYen must be whole yen', where);
  const offer: CertificateOffer = { type: raw.type, unitFeeYen: raw.unitFeeYen };
  if (raw.definition !== undefined) offer.definition = parseCertificateTypeDefinition(raw.definition, `${where}.definition`);
  const definition = offer.definition ?? builtInDefinition(raw.type);
  if (!definition) throw inputError('fixture.bad', `type "${raw.type}" is not one of ${CERTIFICATE_TYPES.join(', ')}: give its definition`, where);
  if (raw.limits !== undefined) offer.limits = parseOptionLimits(raw.limits, definition, `${where}.limits`);
  if (!raw.hours) return offer;
  const startMinute = parseClockMinutes(raw.hours.start);
  const endMinute = parseClockMinutes(raw.hours.end);
  if (startMinute === undefined || endMinute === undefined || startMinute >= endMinute) {
    throw inputError('fixture.bad', 'hours must be HH:MM with start before end', where);
  }
  return { ...offer, hours: { window: { startMinute, endMinute }, weekdaysOnly: raw.hours.weekdaysOnly, closedOnHolidays: raw.hours.closedOnHolidays } };
}

export function fixtureMunicipalities(): Municipality[] {
  return municipalitiesFile.municipalities.map((raw, index) => {
    const where = `fixtures/municipalities.json: municipalities[${index}]`;
    if (!isValidMunicipalityCode(raw.code)) throw inputError('fixture.bad', `"${raw.code}" has a wrong check digit`, where);
    return {
      code: raw.code,
      name: raw.name,
      mayorTitle: raw.mayorTitle,
      participating: raw.participating,
      maxCopiesPerType: raw.maxCopiesPerType,
      offers: (raw.offers as RawOffer[]).map((offer, offerIndex) => offerFromRaw(offer, `${where}.offers[${offerIndex}]`)),
    };
  });
}

export function fixtureResidents(): FixtureResident[] {
  return residentsFile.residents.map((raw) => {
    const { card, ...resident } = raw as typeof raw & { card: FixtureCard };
    return { resident: resident as Resident, card };
  });
}

export function fixtureOperators(): FixtureOperator[] {
  return operatorsFile.operators;
}

/** `init --kiosks N` and `--residents N` accept 1 up to these: beyond them init would run for hours. */
export const MAX_KIOSKS = 1000;
export const MAX_SYNTHETIC_RESIDENTS = 10_000;
/** Synthetic ids start here, clear of the fixtures' (K0001, K0101, S0001, R001 …). */
const SYNTHETIC_FIRST_NUMBER = 1001;
const SYNTHETIC_KIOSKS_PER_STORE = 2;

/**
 * The fixture operators with the first one's kiosks made `kioskCount`: its fixture kiosks in
 * order, then synthetic ones (K1001, K1002 …), two to a synthetic store (S1001 …).
 */
export function operatorsWithKiosks(operators: FixtureOperator[], kioskCount: number): FixtureOperator[] {
  const [first, ...others] = operators;
  if (first === undefined) throw inputError('fixture.bad', 'no operator to give kiosks to', 'fixtures/operators.json');
  const stores: FixtureStore[] = [];
  let left = kioskCount;
  for (const store of first.stores) {
    const kiosks = store.kiosks.slice(0, left);
    left -= kiosks.length;
    if (kiosks.length > 0) stores.push({ ...store, kiosks });
  }
  const brand = first.name.replace(/株式会社$/, '');
  let kioskNumber = SYNTHETIC_FIRST_NUMBER;
  for (let storeNumber = SYNTHETIC_FIRST_NUMBER; left > 0; storeNumber += 1) {
    const kiosks: string[] = [];
    while (left > 0 && kiosks.length < SYNTHETIC_KIOSKS_PER_STORE) {
      kiosks.push(`K${kioskNumber}`);
      kioskNumber += 1;
      left -= 1;
    }
    stores.push({ storeId: `S${storeNumber}`, storeName: `${brand}試験${storeNumber - SYNTHETIC_FIRST_NUMBER + 1}号店`, kiosks });
  }
  return [{ ...first, stores }, ...others];
}

const SYNTHETIC_WHERE = 'fixtures/synthetic-residents.json';

/**
 * `count` fictional residents (R1001 …) with valid cards (card-r1001 …) that the centre accepts:
 * active, 15 or older, no support measure, spread round-robin over the participating
 * municipalities, with names built from the readable lists in fixtures/synthetic-residents.json.
 */
export function syntheticResidents(count: number, municipalities: Municipality[]): FixtureResident[] {
  const participating = municipalities.filter((municipality) => municipality.participating);
  const towns = syntheticFile.towns as Record<string, string[] | undefined>;
  for (const municipality of participating) {
    if (!towns[municipality.code]?.length) throw inputError('fixture.bad', `no towns for participating municipality ${municipality.code}`, `${SYNTHETIC_WHERE}: towns`);
  }
  const surnames = syntheticFile.surnames as [string, string][];
  const givenNames = syntheticFile.givenNames as Record<'男' | '女', [string, string][]>;
  return Array.from({ length: count }, (_, index) => {
    const number = SYNTHETIC_FIRST_NUMBER + index;
    const municipality = participating[index % participating.length]!;
    const sex: '男' | '女' = index % 2 === 0 ? '男' : '女';
    const [surname, surnameKana] = surnames[index % surnames.length]!;
    const given = givenNames[sex];
    const [givenName, givenNameKana] = given[Math.floor(index / surnames.length) % given.length]!;
    const town = towns[municipality.code]![index % towns[municipality.code]!.length]!;
    const name = `${surname} ${givenName}`;
    const taxableIncomeYen = 2_000_000 + (index % 50) * 100_000;
    const resident: Resident = {
      residentId: `R${number}`,
      municipalityCode: municipality.code,
      honsekiCode: municipality.code,
      status: 'active',
      supportMeasure: false,
      name,
      kana: `${surnameKana} ${givenNameKana}`,
      birthDate: `${1950 + (index % 50)}-${pad2(1 + (index % 12))}-${pad2(1 + (index % 28))}`,
      sex,
      address: `${municipality.name}${town}${1 + (index % 9)}丁目${1 + (index % 20)}番${1 + (index % 30)}号`,
      householder: name,
      relationship: '世帯主',
      residentSince: `${2000 + (index % 25)}-04-01`,
      honseki: `${municipality.name}${town}${1 + (index % 9)}丁目${1 + (index % 20)}番地`,
      headOfFamily: name,
      sealRegistrationNumber: `${municipality.code}-${String(number).padStart(5, '0')}`,
      taxableIncomeYen,
      residentTaxYen: Math.floor((taxableIncomeYen * 6) / 100),
    };
    // A test PIN per card that differs between neighbours (7919 is prime, so it walks all 10,000).
    const pin = String((number * 7919) % 10_000).padStart(4, '0');
    return { resident, card: { cardId: `card-r${number}`, pin, kind: 'my-number-card', validity: 'valid' } };
  });
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
