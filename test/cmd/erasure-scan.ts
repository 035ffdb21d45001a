// Test helpers for Spec§14 / S4-2 (the certificate leaves no trace on the kiosk): a kiosk whose
// every step (each input, each print job before and after, each receipt or void slip rendered)
// awaits a callback, so a test can look at the disk at that moment; the byte patterns the
// certificate and its resident leave; and a scan of every file the kiosk owns for them.

import fs from 'node:fs';
import path from 'node:path';
import { clientFor, findKiosk, type LoadedConfig } from '../../cmd/config.ts';
import { cardFilePath, openKiosk, type Kiosk } from '../../cmd/kiosk.ts';
import type { CertificateType } from '../../core/certificate-types.ts';
import { KIOSK_PATHS } from '../../core/messages.ts';
import type { Clock, Denomination } from '../../core/ports.ts';
import type { TransactionResult } from '../../core/kiosk-transaction.ts';
import type { HttpClient } from '../../drivers/http/client.ts';
import { renderVoidNoticePdf } from '../../drivers/pdf/certificate-pdf.ts';
import { renderReceiptPdf } from '../../drivers/pdf/receipt-pdf.ts';
import { FolderPrinter } from '../../drivers/printer/folder-printer.ts';

export interface Session {
  card: string;
  pin: string;
  certificateType: CertificateType;
  copies: number;
  /** The resident cancels at the cash screen, after the certificate data arrived. */
  cancelAtCash?: boolean;
  /** The printer jams on this copy (a misprint: refund and void slip). */
  jamOnCopy?: number;
}

/**
 * Runs one session at `kioskId` against the relay at `relayUrl`, calling `step(label)` at every
 * step and `onCertificate(pdfsBase64)` when the certificate data arrives (before the kiosk sees it),
 * with each copy's PDF.
 */
export async function instrumentedSession(
  loaded: LoadedConfig,
  options: { kioskId: string; relayUrl: string; clock: Clock; session: Session; step: (label: string) => Promise<void>; onCertificate: (pdfsBase64: string[]) => void },
): Promise<{ kiosk: Kiosk; result: TransactionResult }> {
  const { step, session } = options;
  const config = findKiosk(loaded, options.kioskId);
  const real = clientFor(loaded, config.tls, options.relayUrl, 20_000);
  const client: HttpClient = {
    request: (...args) => real.request(...args),
    close: () => real.close(),
    async postJson<T>(requestPath: string, value: unknown, headers?: Record<string, string>) {
      const answer = await real.postJson<T>(requestPath, value, headers);
      if (requestPath === KIOSK_PATHS.certificates && answer.status === 200) options.onCertificate((answer.json as { pdfsBase64: string[] }).pdfsBase64);
      return answer;
    },
  };
  const kiosk = openKiosk(loaded, {
    kioskId: options.kioskId,
    clock: options.clock,
    drivers: {
      client,
      renderReceipt: async (receipt) => {
        await step('receipt rendered next');
        return renderReceiptPdf(receipt);
      },
      renderVoidNotice: async (notice) => {
        await step('void slip rendered next');
        return renderVoidNoticePdf(notice);
      },
    },
  });
  const printer = kiosk.printer;
  if (!(printer instanceof FolderPrinter)) throw new Error('the erasure tests use the folder printer');
  if (session.jamOnCopy) printer.injectFaults({ jamOnPage: printer.pageCount() + session.jamOnCopy });
  const print = printer.print.bind(printer);
  printer.print = async (job) => {
    const name = `${job.kind}${job.copyNumber ? ` ${job.copyNumber}` : ''}`;
    await step(`printing ${name}`);
    try {
      return await print(job);
    } finally {
      await step(`after printing ${name}`);
    }
  };
  const result = await kiosk.serve(cardFilePath(loaded, session.card), {
    enterPin: async () => {
      await step('PIN');
      return session.pin;
    },
    chooseCertificate: async () => {
      await step('menu');
      return { certificateType: session.certificateType, copies: session.copies };
    },
    nextCash: async () => {
      await step('cash');
      return session.cancelAtCash ? undefined : (10_000 as Denomination);
    },
  });
  await step('done');
  return { kiosk, result };
}

/** A needle and what it stands for (never printed: the label names it). */
export interface Needle {
  label: string;
  bytes: Buffer;
}

/**
 * What would betray the resident: the name, its reading, the address and the 本籍 in UTF-8 and in
 * UTF-16BE (PDF text strings); the certificate PDF stores its glyphs as font-subset CIDs, so the
 * text itself is not in its bytes.
 */
export function residentNeedles(root: string, card: string): Needle[] {
  const residents = JSON.parse(fs.readFileSync(path.join(root, 'fixtures', 'residents.json'), 'utf8')) as { residents: { cardId?: string; residentId: string; name: string; kana: string; address: string; honseki?: string }[] };
  const resident = residents.residents.find((entry) => entry.cardId === card || `card-${entry.residentId.toLowerCase()}` === card);
  if (!resident) throw new Error(`no fixture resident for ${card}`);
  const texts: [string, string][] = [
    ['name', resident.name],
    ['name without space', resident.name.replace(/\s/g, '')],
    ['kana', resident.kana],
    ['address', resident.address],
    ...(resident.honseki ? [['honseki', resident.honseki] as [string, string]] : []),
  ];
  return texts.flatMap(([label, text]) => [
    { label: `${label} (UTF-8)`, bytes: Buffer.from(text, 'utf8') },
    { label: `${label} (UTF-16BE)`, bytes: Buffer.from(text, 'utf16le').swap16() },
  ]);
}

/**
 * Distinctive pieces of this certificate's data: windows of the base64 text the centre sent, and
 * windows of the decoded PDF that are mostly binary (compressed content and font streams), so no
 * other PDF (the receipt, set in the same font) shares them by accident.
 */
export function certificateNeedles(pdfsBase64: string[]): Needle[] {
  return pdfsBase64.flatMap((pdfBase64, index) => copyNeedles(pdfBase64, `copy ${index + 1}`));
}

function copyNeedles(pdfBase64: string, copy: string): Needle[] {
  const needles: Needle[] = [];
  for (let index = 1; index <= 4; index += 1) {
    const at = Math.floor((pdfBase64.length * index) / 5);
    needles.push({ label: `certificate ${copy} base64 at ${at}`, bytes: Buffer.from(pdfBase64.slice(at, at + 48), 'latin1') });
  }
  const pdf = Buffer.from(pdfBase64, 'base64');
  const binary = (window: Buffer) => window.filter((byte) => byte < 0x20 || byte > 0x7e).length >= 12;
  for (let index = 1; index <= 6; index += 1) {
    let at = Math.floor((pdf.length * index) / 7);
    while (at + 32 < pdf.length && !binary(pdf.subarray(at, at + 32))) at += 32;
    needles.push({ label: `certificate ${copy} PDF bytes at ${at}`, bytes: Buffer.from(pdf.subarray(at, at + 32)) });
  }
  return needles;
}

/**
 * Every file the kiosk owns: its database and what SQLite keeps beside it, its print folder (the
 * spool and the slips), and any extra directory (a private TMPDIR). A printed certificate copy in
 * the folder is the paper the resident takes away, not a file of the kiosk's, and is left out.
 */
export function kioskFiles(loaded: LoadedConfig, kioskId: string, extraDirectories: string[] = []): string[] {
  const config = findKiosk(loaded, kioskId);
  const database = loaded.resolve(config.databaseFile);
  const files = [database, `${database}-wal`, `${database}-shm`, `${database}-journal`].filter((file) => fs.existsSync(file));
  const walk = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isSymbolicLink() ? [] : entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
      : [];
  const paper = /^[0-9a-f]{32}-certificate-copy\d+\.pdf$/;
  const printed = walk(loaded.resolve(config.printerDirectory)).filter((file) => !paper.test(path.basename(file)));
  return [...files, ...printed, ...extraDirectories.flatMap(walk)];
}

/** "file: what" for each needle found in a file. */
export function findNeedles(files: string[], needles: Needle[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch {
      continue; // gone between the listing and the read (SQLite removes its journal)
    }
    for (const needle of needles) if (content.includes(needle.bytes)) found.push(`${path.basename(file)}: ${needle.label}`);
  }
  return found;
}
