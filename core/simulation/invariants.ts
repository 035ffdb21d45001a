// The simulation's invariants (docs/simulation.md, "Invariants"), as small total functions over
// what the runner observed. Each returns what is wrong, in words without personal data, or
// undefined when it holds.

import { certificateSerial } from '../certificate-serial.ts';

export const INVARIANTS = ['printed-for-asker', 'notice-exactly-once', 'cash-balances', 'audit-verifies', 'no-internal-fault'] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** What a printed certificate says about itself (core/simulation/certificate-marker.ts). */
export interface PrintedCertificate {
  requestId: string;
  kioskId: string;
  holder: string;
  /** The copy's serial (core/certificate-serial.ts). */
  serial: string;
}

/**
 * SPEC.md §2 step 6: certificate data is printed only at the kiosk it was issued to, only for the
 * request the kiosk made in the session on its reader now, and only for the card that opened it.
 */
export function printedForAsker(
  printed: PrintedCertificate,
  at: { kioskId: string; jobRequestId: string; jobCopy: number | undefined; sessionHolder: string | undefined; issuedToKioskId: string | undefined },
): string | undefined {
  if (printed.kioskId !== at.kioskId) return `kiosk ${at.kioskId} printed a certificate made for kiosk ${printed.kioskId}`;
  if (printed.requestId !== at.jobRequestId) return `kiosk ${at.kioskId} printed the certificate of request ${printed.requestId} for request ${at.jobRequestId}`;
  // C§9: copy n carries serial <request>-n, so a voided serial names the very sheet.
  if (at.jobCopy === undefined || printed.serial !== certificateSerial(at.jobRequestId, at.jobCopy)) return `kiosk ${at.kioskId} printed serial ${printed.serial} as copy ${at.jobCopy ?? '(none)'} of request ${at.jobRequestId}`;
  if (at.issuedToKioskId !== at.kioskId) return `kiosk ${at.kioskId} printed request ${printed.requestId}, which the centre issued to ${at.issuedToKioskId ?? 'no kiosk'}`;
  if (at.sessionHolder === undefined) return `kiosk ${at.kioskId} printed a certificate with no resident's session open`;
  if (printed.holder !== at.sessionHolder) return `kiosk ${at.kioskId} printed another resident's certificate for the card on its reader (request ${printed.requestId})`;
  return undefined;
}

/** The money one kiosk's cash unit saw, from the residents' side and from the kiosk's ledger. */
export interface CashBook {
  /** Yen residents put in. */
  handedYen: number;
  /** Yen handed back: change, refunds, pieces the acceptor returned. */
  returnedYen: number;
  /** Pieces a jam swallowed: held by the unit for the clerk, neither kept nor returned. */
  jammedYen: number;
  /** In the unit for the current transaction, not yet kept or returned. */
  inFlightYen: number;
  /** What the unit says it kept over its lifetime. */
  unitTakenYen: number;
  /** What the kiosk's ledger says it kept (cash_kept_yen of its records). */
  ledgerKeptYen: number;
  /** Fees of the ledger's issued records. */
  issuedFeesYen: number;
}

/** Cash in = fees issued + refunds and change returned (+ pieces a jam holds), at every step. */
export function cashBalances(kioskId: string, book: CashBook): string | undefined {
  const kept = book.handedYen - book.returnedYen - book.jammedYen - book.inFlightYen;
  if (kept !== book.ledgerKeptYen) return `kiosk ${kioskId}: residents paid ${book.handedYen} yen, got ${book.returnedYen} back, ${book.jammedYen} jammed, ${book.inFlightYen} in the unit, so ${kept} was kept, but the ledger says ${book.ledgerKeptYen}`;
  if (book.unitTakenYen !== book.ledgerKeptYen) return `kiosk ${kioskId}: the cash unit kept ${book.unitTakenYen} yen, the ledger says ${book.ledgerKeptYen}`;
  if (book.ledgerKeptYen !== book.issuedFeesYen) return `kiosk ${kioskId}: the ledger kept ${book.ledgerKeptYen} yen for ${book.issuedFeesYen} yen of fees issued`;
  return undefined;
}

/** The fields a completion notice and the centre's record of it share (Spec§4 interchange). */
export interface NoticeFigures {
  issuanceId: string;
  kioskId: string;
  storeId: string;
  municipalityCode: string;
  certificateType: string;
  copies: number;
  feeYen: number;
}

const COMPARED: readonly (keyof NoticeFigures)[] = ['kioskId', 'storeId', 'municipalityCode', 'certificateType', 'copies', 'feeYen'];

/**
 * Spec§13: every notice is recorded exactly once. `recorded` are the centre's settlement rows for
 * the id (its handling record and any adjustment line): none before delivery is fine unless the
 * kiosk was told it was recorded; more than one is a duplicate; a different figure is a mismatch.
 */
export function recordedOnce(kiosk: NoticeFigures, recorded: readonly NoticeFigures[], acknowledged: boolean): string | undefined {
  if (recorded.length > 1) return `issuance ${kiosk.issuanceId} is recorded ${recorded.length} times at the centre`;
  const [row] = recorded;
  if (!row) return acknowledged ? `issuance ${kiosk.issuanceId} was acknowledged to kiosk ${kiosk.kioskId} but the centre has no record of it` : undefined;
  const differing = COMPARED.filter((field) => row[field] !== kiosk[field]);
  if (differing.length > 0) return `issuance ${kiosk.issuanceId}: the centre's record differs from the kiosk's in ${differing.join(', ')}`;
  return undefined;
}

/**
 * C§9: the centre holds as void exactly the serials the kiosk's notice voided, once it holds the
 * notice's record, and none before (the record and its voids are written by one request).
 */
export function voidedAsNoticed(issuanceId: string, noticed: readonly string[] | undefined, recorded: boolean, voidedAtCentre: readonly string[]): string | undefined {
  const expected = recorded ? [...(noticed ?? [])].sort() : [];
  const actual = [...voidedAtCentre].sort();
  if (expected.join('\n') === actual.join('\n')) return undefined;
  return `issuance ${issuanceId}: the centre holds ${actual.length} voided serial(s) where the kiosk's notice${recorded ? '' : ', not yet recorded,'} voided ${expected.length}`;
}
