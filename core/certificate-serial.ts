// The serial each printed copy of a certificate carries (C§9): the request id and the copy number,
// so the centre assigns it without storing anything new and anyone can read which transaction and
// which copy a sheet is. A misprint voids every serial of its transaction at the centre.

/** The request-id grammar of the wire (core/messages.ts): a serial only ever wraps one of those. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Copies per request are 1..99 on the wire (core/messages.ts). */
export const MAX_COPIES = 99;
const SERIAL = /^(.+)-([1-9][0-9]?)$/;

/** Copy `copy` (1-based) of request `requestId`: `<requestId>-<copy>`. */
export function certificateSerial(requestId: string, copy: number): string {
  return `${requestId}-${copy}`;
}

/** Every serial of a request of `copies` copies, in copy order. */
export function certificateSerials(requestId: string, copies: number): string[] {
  return Array.from({ length: copies }, (_, index) => certificateSerial(requestId, index + 1));
}

/**
 * The request and copy a serial names, or undefined when it is not one. The copy is the last
 * `-`-separated part: a request id may hold `-` itself, the copy number never does.
 */
export function parseCertificateSerial(serial: string): { requestId: string; copy: number } | undefined {
  const match = SERIAL.exec(serial);
  if (!match || !REQUEST_ID.test(match[1]!)) return undefined;
  return { requestId: match[1]!, copy: Number(match[2]) };
}

/** What the centre knows of a serial (`center serial`, README.md). */
export type SerialStatus =
  /** Never assigned: no such request, or a copy number beyond its copies. */
  | 'unknown'
  /** Certificate data was issued; no completion notice has arrived yet. */
  | 'unconfirmed'
  /** The kiosk reported the transaction issued, and the serial was not voided. */
  | 'issued'
  /** The transaction was refunded before anything was printed: no valid sheet exists. */
  | 'refunded'
  /** Voided after a misprint or a cash fault: any sheet with it is 「返金済・無効」. */
  | 'void';
