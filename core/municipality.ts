// Municipalities: their 6-digit codes (全国地方公共団体コード), fees, copy limits and service hours.

import { AppError } from './errors.ts';
import { builtInDefinition, type CertificateType, type CertificateTypeDefinition } from './certificate-types.ts';

const CHECK_DIGIT_WEIGHTS = [6, 5, 4, 3, 2] as const;

/** Check digit of a 5-digit body: last digit of 11 − (Σ digit × weight mod 11). */
export function municipalityCheckDigit(body: string): number {
  let sum = 0;
  for (let index = 0; index < CHECK_DIGIT_WEIGHTS.length; index += 1) {
    sum += (body.charCodeAt(index) - 48) * CHECK_DIGIT_WEIGHTS[index]!;
  }
  return (11 - (sum % 11)) % 10;
}

export function isValidMunicipalityCode(code: string): boolean {
  if (!/^[0-9]{6}$/.test(code)) return false;
  return municipalityCheckDigit(code.slice(0, 5)) === code.charCodeAt(5) - 48;
}

/** A window in JST minutes of the day, [startMinute, endMinute). */
export interface DailyWindow {
  startMinute: number;
  endMinute: number;
}

/** When a municipality issues one certificate type. Absent means "whenever the centre is open". */
export interface TypeHours {
  window: DailyWindow;
  weekdaysOnly: boolean;
  /** Closed on national holidays and 12/29–1/3 (the municipality's holidays). */
  closedOnHolidays: boolean;
}

export interface CertificateOffer {
  type: CertificateType;
  unitFeeYen: number;
  hours?: TypeHours;
  /** The type's definition when it is not one of the seven built in (core/certificate-types.ts). */
  definition?: CertificateTypeDefinition;
  /** The option values the municipality issues at kiosks, per option key; absent keys allow every value. */
  limits?: Record<string, string[]>;
}

export interface Municipality {
  code: string;
  name: string;
  /** Printed under the certificate: 千代田区長 */
  mayorTitle: string;
  participating: boolean;
  maxCopiesPerType: number;
  offers: CertificateOffer[];
  /**
   * Where the municipality's own system answers for its residents (docs/municipality-backend.md);
   * without it, the centre's own resident table does.
   */
  backend?: MunicipalityBackend;
}

export interface MunicipalityBackend {
  /** https://host:port of the back end. */
  url: string;
  /** The CA its server certificate chains to, a file of the deployment. */
  caFile: string;
}

export const DEFAULT_MAX_COPIES_PER_TYPE = 10;

/** The definition an offer issues under: its own, or the built-in one of its code. */
export function offerDefinition(offer: CertificateOffer): CertificateTypeDefinition {
  const definition = offer.definition ?? builtInDefinition(offer.type);
  if (!definition) throw new AppError('internal', 'type.undefined', `certificate type ${offer.type} has no definition`, offer.type);
  return definition;
}

export function findOffer(municipality: Municipality, type: CertificateType): CertificateOffer | undefined {
  return municipality.offers.find((offer) => offer.type === type);
}

/** "09:00" → 540. Returns undefined for anything that is not HH:MM within a day. */
export function parseClockMinutes(text: string): number | undefined {
  const match = /^([0-9]{2}):([0-9]{2})$/.exec(text);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return Number(match[2]) < 60 && minutes <= 24 * 60 ? minutes : undefined;
}

export function formatClockMinutes(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours < 10 ? '0' : ''}${hours}:${rest < 10 ? '0' : ''}${rest}`;
}
