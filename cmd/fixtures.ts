// The fixtures in fixtures/ are embedded in the binary (JSON imports), validated here, and turned
// into core types. A broken fixture names the file and the entry.

import municipalitiesFile from '../fixtures/municipalities.json' with { type: 'json' };
import operatorsFile from '../fixtures/operators.json' with { type: 'json' };
import residentsFile from '../fixtures/residents.json' with { type: 'json' };
import { isCertificateType } from '../core/certificate-types.ts';
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

interface RawOffer {
  type: string;
  unitFeeYen: number;
  hours?: { start: string; end: string; weekdaysOnly: boolean; closedOnHolidays: boolean };
}

function toOffer(raw: RawOffer, where: string): CertificateOffer {
  if (!isCertificateType(raw.type)) throw inputError('fixture.bad', `unknown certificate type "${raw.type}"`, where);
  if (!Number.isSafeInteger(raw.unitFeeYen) || raw.unitFeeYen < 0) throw inputError('fixture.bad', 'unitFeeYen must be whole yen', where);
  if (!raw.hours) return { type: raw.type, unitFeeYen: raw.unitFeeYen };
  const startMinute = parseClockMinutes(raw.hours.start);
  const endMinute = parseClockMinutes(raw.hours.end);
  if (startMinute === undefined || endMinute === undefined || startMinute >= endMinute) {
    throw inputError('fixture.bad', 'hours must be HH:MM with start before end', where);
  }
  return {
    type: raw.type,
    unitFeeYen: raw.unitFeeYen,
    hours: { window: { startMinute, endMinute }, weekdaysOnly: raw.hours.weekdaysOnly, closedOnHolidays: raw.hours.closedOnHolidays },
  };
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
      offers: (raw.offers as RawOffer[]).map((offer, offerIndex) => toOffer(offer, `${where}.offers[${offerIndex}]`)),
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
