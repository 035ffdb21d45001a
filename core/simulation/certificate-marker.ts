// What the simulation's certificate renderer writes on the page in place of the official layout
// (docs/simulation.md, "Printed certificates"): the request, the kiosk, a digest of the holder's
// identity fields and the copy's serial, so the oracle can read back whose certificate came out of the printer without
// any personal data on the page.

import type { PrintedCertificate } from './invariants.ts';

const PATTERN = /SIM-CERTIFICATE request=([0-9a-f]{32}) kiosk=([A-Za-z0-9._-]{1,64}) holder=([0-9a-f]{64}) serial=([A-Za-z0-9._-]{1,68})/;

export function certificateMarker(printed: PrintedCertificate): string {
  return `SIM-CERTIFICATE request=${printed.requestId} kiosk=${printed.kioskId} holder=${printed.holder} serial=${printed.serial}`;
}

export function readCertificateMarker(text: string): PrintedCertificate | undefined {
  const match = PATTERN.exec(text);
  return match ? { requestId: match[1]!, kioskId: match[2]!, holder: match[3]!, serial: match[4]! } : undefined;
}

/** The identity fields the holder digest covers: the same for every certificate type (core/resident.ts). */
export const HOLDER_FIELDS = ['氏名', '生年月日'] as const;

export function holderText(fields: readonly { label: string; value: string }[]): string {
  return HOLDER_FIELDS.map((label) => fields.find((field) => field.label === label)?.value ?? '').join('\u0000');
}

/** A one-page PDF that drivers/printer/folder-printer.ts counts as one page, carrying `text`. */
export function minimalPdf(text: string): string {
  const escaped = text.replace(/[\\()]/g, (character) => `\\${character}`);
  return [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj',
    `4 0 obj << >> stream\nBT /F1 10 Tf 40 800 Td (${escaped}) Tj ET\nendstream endobj`,
    '%%EOF',
    '',
  ].join('\n');
}
