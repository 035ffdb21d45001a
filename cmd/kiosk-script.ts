// Scripted kiosk sessions: a JSON file that plays the resident (card, PINs, choice, cash), so a
// kiosk runs unattended in demos, tests and field diagnostics.

import fs from 'node:fs';
import { isCertificateTypeCode, type CertificateOptions, type CertificateType } from '../core/certificate-types.ts';
import { inputError } from '../core/errors.ts';
import type { KioskInput } from '../core/kiosk-transaction.ts';
import type { Denomination } from '../core/ports.ts';

export interface ScriptedSession {
  /** Card id in the deployment's cards folder (card-r001), or a path to a card file. */
  card: string;
  /** PINs typed, in order; when they run out the resident cancels. */
  pins: string[];
  /** Omitted: the resident cancels at the menu. */
  certificateType?: CertificateType;
  copies?: number;
  /** Option key → value (e.g. { "household": "all" }); options left out take the menu's default. */
  options?: CertificateOptions;
  /** Notes and coins inserted, in order; when they run out before the fee is paid the resident cancels. */
  cash: Denomination[];
  /** A printer jam on this copy of the certificate (1-based): a misprint, refunded and voided (C§9). */
  printerJamOnCopy?: number;
  /** What the session should end in; a run whose outcomes differ exits 3. */
  expect?: 'issued' | 'refused' | 'cancelled' | 'refunded';
}

export interface KioskScript {
  sessions: ScriptedSession[];
}

const DENOMINATIONS = [10, 50, 100, 500, 1000, 2000, 5000, 10000];
const OUTCOMES = ['issued', 'refused', 'cancelled', 'refunded'];

function sessionFrom(value: unknown, where: string): ScriptedSession {
  if (typeof value !== 'object' || value === null) throw inputError('script.bad', 'each session must be an object', where);
  const raw = value as Record<string, unknown>;
  if (typeof raw.card !== 'string' || raw.card === '') throw inputError('script.bad', 'field "card" must name a card', `${where}.card`);
  if (!Array.isArray(raw.pins) || !raw.pins.every((pin) => typeof pin === 'string')) {
    throw inputError('script.bad', 'field "pins" must be a list of strings', `${where}.pins`);
  }
  if (raw.certificateType !== undefined && !isCertificateTypeCode(raw.certificateType)) {
    throw inputError('script.bad', 'field "certificateType" is not a certificate type code (a-z, 0-9 and -)', `${where}.certificateType`);
  }
  if (raw.options !== undefined && !isOptionMap(raw.options)) {
    throw inputError('script.bad', 'field "options" must be an object of option keys and string values', `${where}.options`);
  }
  const copies = raw.copies ?? 1;
  if (typeof copies !== 'number' || !Number.isSafeInteger(copies) || copies < 1) {
    throw inputError('script.bad', 'field "copies" must be a whole number of at least 1', `${where}.copies`);
  }
  const cash = raw.cash ?? [];
  if (!Array.isArray(cash) || !cash.every((yen) => DENOMINATIONS.includes(yen as number))) {
    throw inputError('script.bad', `field "cash" must list notes and coins (${DENOMINATIONS.join(', ')})`, `${where}.cash`);
  }
  if (raw.printerJamOnCopy !== undefined && !(Number.isSafeInteger(raw.printerJamOnCopy) && (raw.printerJamOnCopy as number) >= 1)) {
    throw inputError('script.bad', 'field "printerJamOnCopy" must be a copy number of at least 1', `${where}.printerJamOnCopy`);
  }
  if (raw.expect !== undefined && !OUTCOMES.includes(raw.expect as string)) {
    throw inputError('script.bad', `field "expect" must be one of ${OUTCOMES.join(', ')}`, `${where}.expect`);
  }
  return {
    card: raw.card,
    pins: raw.pins as string[],
    certificateType: raw.certificateType as CertificateType | undefined,
    copies,
    ...(raw.options === undefined ? {} : { options: raw.options as CertificateOptions }),
    cash: cash as Denomination[],
    printerJamOnCopy: raw.printerJamOnCopy as number | undefined,
    expect: raw.expect as ScriptedSession['expect'],
  };
}

function isOptionMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((choice) => typeof choice === 'string');
}

export function parseKioskScript(text: string, file: string): KioskScript {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw inputError('script.bad_json', `not valid JSON (${(error as Error).message})`, file);
  }
  const sessions = (parsed as { sessions?: unknown } | null)?.sessions;
  if (!Array.isArray(sessions) || sessions.length === 0) throw inputError('script.bad', 'expected { "sessions": [ … ] } with at least one session', file);
  return { sessions: sessions.map((session, index) => sessionFrom(session, `${file}: sessions[${index}]`)) };
}

export function readKioskScript(file: string): KioskScript {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw inputError('script.missing', 'cannot read the script file', file);
  }
  return parseKioskScript(text, file);
}

/** Plays one scripted session as the resident at the kiosk. */
export function scriptedInput(session: ScriptedSession): KioskInput {
  const pins = [...session.pins];
  const cash = [...session.cash];
  return {
    async enterPin() {
      return pins.shift();
    },
    // Choosing something the menu does not offer is the kiosk's to refuse, not the script's.
    async chooseCertificate() {
      if (!session.certificateType) return undefined;
      return { certificateType: session.certificateType, copies: session.copies ?? 1, ...(session.options ? { options: session.options } : {}) };
    },
    async nextCash() {
      return cash.shift();
    },
  };
}
