// One resident at one kiosk, from card to completion notice (SPEC.md §2). Every step that touches
// the world goes through a port, so the same flow runs against real hardware, simulators and scripts.

import type { CertificateOptions, CertificateType } from './certificate-types.ts';
import { base64Decode, base64Encode, hexEncode } from './bytes.ts';
import { certificateDigestInput, signedChallengeBytes, type VoidedSerials } from './messages.ts';
import { certificateSerials } from './certificate-serial.ts';
import type { AuditSink } from './audit-entry.ts';
import { faultDevice, type FaultReporter } from './alerts.ts';
import { AppError } from './errors.ts';
import { formatJstDateTime, formatUtcIso } from './jst.ts';
import { CONTRACT_CARD_KINDS, digestInfoForSha256, JpkiCard, type CardKind } from './jpki.ts';
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  CertificateData,
  CertificateRequest,
  ChallengeResponse,
  CompletionAck,
  CompletionNotice,
  CompletionOutcome,
  CorrectionNotice,
  MenuItem,
} from './messages.ts';
import type { CardReader, CashUnit, Clock, Denomination, Printer, RandomSource } from './ports.ts';
import { refusalText, SCREEN } from './screen-text.ts';

/** The kiosk's view of the relay. Refusals arrive as AppError with the centre's code. */
export interface KioskGateway {
  challenge(): Promise<ChallengeResponse>;
  authenticate(request: Omit<AuthenticateRequest, 'kioskId'>): Promise<AuthenticateResponse>;
  requestCertificate(request: Omit<CertificateRequest, 'kioskId'>): Promise<CertificateData>;
  sendCompletion(notice: CompletionNotice): Promise<CompletionAck>;
  sendCorrection(notice: CorrectionNotice): Promise<CompletionAck>;
}

/** What the resident does: the terminal, a touch screen, or a script. undefined means "cancel". */
export interface KioskInput {
  enterPin(triesLeft: number): Promise<string | undefined>;
  /**
   * The whole menu, types not available now included with their hours (`available: false`), so the
   * screen can say which and when (Spec§8-2); choosing one of those is refused.
   */
  chooseCertificate(menu: MenuItem[]): Promise<CertificateChoice | undefined>;
  nextCash(feeYen: number, insertedYen: number): Promise<Denomination | undefined>;
}

export interface KioskScreen {
  show(text: string): void;
}

export interface Receipt {
  storeName: string;
  storeId: string;
  kioskId: string;
  requestId: string;
  certificateTitle: string;
  copies: number;
  unitFeeYen: number;
  feeYen: number;
  paidYen: number;
  changeYen: number;
  /** Already formatted, e.g. 2026年11月27日 14:05. */
  issuedAtText: string;
  /** The fee is the municipality's; the store only collects it. */
  municipalityName: string;
  createdAtMs: number;
}

export interface KioskTransactionRecord {
  requestId: string;
  issuedAtMs: number;
  municipalityCode: string;
  certificateType: CertificateType;
  copies: number;
  feeYen: number;
  /** What the cash unit reports it kept: paid minus change; 0 after a refund. */
  cashKeptYen: number;
  outcome: CompletionOutcome;
}

export interface KioskLedger {
  /** Writes the local record and queues the completion notice in the outbox, atomically. */
  recordTransaction(record: KioskTransactionRecord, notice: CompletionNotice): void;
}

export interface KioskIdentity {
  kioskId: string;
  storeId: string;
  storeName: string;
}

export interface KioskDependencies {
  identity: KioskIdentity;
  clock: Clock;
  random: RandomSource;
  reader: CardReader;
  cash: CashUnit;
  printer: Printer;
  gateway: KioskGateway;
  ledger: KioskLedger;
  screen: KioskScreen;
  /** The kiosk's audit log: every step, pseudonymous ids and codes only (S4-5). */
  audit: AuditSink;
  /** Faults: into the audit log, and a device's on to the store register and maintenance (S4-7, docs/alerts.md). */
  faults: FaultReporter;
  sha256(data: Uint8Array): Uint8Array;
  renderReceipt(receipt: Receipt): Promise<Uint8Array>;
  renderVoidNotice(input: VoidSlip): Promise<Uint8Array>;
  /** The cards this kiosk takes (core/jpki.ts acceptedCardKinds); the contract's two unless given. */
  acceptedCardKinds?: readonly CardKind[];
}

/** The slip printed after a misprint (C§9): every serial of the transaction, all void. */
export interface VoidSlip {
  requestId: string;
  kioskId: string;
  serials: string[];
  createdAtMs: number;
}

/** How a transaction ended, before the count of wrong PINs is added. */
type Outcome =
  | { outcome: 'issued'; requestId: string; certificateType: CertificateType; copies: number; feeYen: number; changeYen: number }
  /** voidedSerials: after a misprint or a cash fault once printing began, every serial of the transaction. */
  | { outcome: 'refunded'; requestId: string; code: string; refundedYen: number; voidedSerials?: string[] }
  | { outcome: 'refused'; code: string }
  | { outcome: 'cancelled' };

/** How a transaction ended, and how many wrong PINs the resident typed on the way (0 to 3). */
export type TransactionResult = Outcome & { wrongPins: number };

class Cancelled extends Error {}

/** The digest the centre binds to certificate data: over every copy's own digest (core/messages.ts). */
export function boundDigestOf(pdfs: Uint8Array[], sha256: (data: Uint8Array) => Uint8Array): Uint8Array {
  return sha256(certificateDigestInput(pdfs.map(sha256)));
}

/**
 * Throws a refusal unless the certificate data is exactly what this kiosk asked for, for this
 * resident: `pdfSha256` is boundDigestOf the copies received, one PDF per copy.
 */
/** What the resident chose from the menu: a type, its options (defaults for any left out), copies. */
export interface CertificateChoice {
  certificateType: CertificateType;
  copies: number;
  options?: CertificateOptions;
}

export function assertBinding(
  expected: { requestId: string; kioskId: string; residentRef: string; certificateType: CertificateType; copies: number; options?: CertificateOptions },
  data: CertificateData,
  pdfSha256: Uint8Array,
): void {
  const bound =
    data.requestId === expected.requestId &&
    data.kioskId === expected.kioskId &&
    data.residentRef === expected.residentRef &&
    data.certificateType === expected.certificateType &&
    data.copies === expected.copies &&
    Object.entries(expected.options ?? {}).every(([key, value]) => data.options[key] === value) &&
    data.pdfsBase64.length === expected.copies &&
    data.feeYen === data.unitFeeYen * data.copies &&
    hexEncode(pdfSha256) === data.contentSha256;
  if (!bound) {
    throw new AppError('refused', 'binding.mismatch', 'the certificate data is not bound to this request');
  }
}

export async function runKioskTransaction(deps: KioskDependencies, input: KioskInput): Promise<TransactionResult> {
  const { screen } = deps;
  // Counted as they happen, so a lock or a cancel at the PIN prompt still reports the wrong tries.
  const pins = { wrong: 0 };
  let pdfs: Uint8Array[] | undefined;
  try {
    screen.show(SCREEN.welcome);
    screen.show(SCREEN.hours);
    const card = new JpkiCard(await deps.reader.connect());
    await card.selectApplet();
    const cardKind = await card.readCardKind();
    const certificateDer = await card.readAuthCertificate();
    deps.audit.append({ kind: 'card.read', data: { cardKind } });
    // Before the PIN: a token the deployment does not take is refused without asking for it.
    if (!(deps.acceptedCardKinds ?? CONTRACT_CARD_KINDS).includes(cardKind)) {
      throw new AppError('refused', 'card.kind_not_accepted', `${cardKind} certificates are not accepted at this kiosk`);
    }
    await unlockCard(card, input, deps, pins);

    screen.show(SCREEN.authenticating);
    const session = await authenticate(deps, card, certificateDer);
    deps.audit.append({ kind: 'auth.accepted', data: { residentRef: session.residentRef, municipalityCode: session.municipality.code, attempt: pins.wrong + 1 } });
    await deps.reader.disconnect();

    screen.show(SCREEN.menu);
    const choice = await input.chooseCertificate(session.menu);
    if (!choice) throw new Cancelled();
    assertChoice(session.menu, choice);

    const requestId = hexEncode(deps.random.bytes(16));
    deps.audit.append({ kind: 'certificate.requested', data: { requestId, residentRef: session.residentRef, certificateType: choice.certificateType, copies: choice.copies } });
    const data = await deps.gateway.requestCertificate({
      sessionToken: session.sessionToken,
      requestId,
      certificateType: choice.certificateType,
      copies: choice.copies,
      ...(choice.options ? { options: choice.options } : {}),
    });
    pdfs = data.pdfsBase64.map(base64Decode);
    assertBinding({ requestId, kioskId: deps.identity.kioskId, residentRef: session.residentRef, ...choice }, data, boundDigestOf(pdfs, deps.sha256));
    screen.show(SCREEN.fee(data.title, data.copies, data.feeYen));
    return { ...(await payPrintAndRecord(deps, input, data, pdfs)), wrongPins: pins.wrong };
  } catch (error) {
    if (error instanceof Cancelled) {
      deps.audit.append({ kind: 'transaction.cancelled', data: { attempt: pins.wrong } });
      screen.show(SCREEN.cancelled);
      return { outcome: 'cancelled', wrongPins: pins.wrong };
    }
    if (error instanceof AppError && error.kind !== 'internal') {
      deps.audit.append({ kind: 'transaction.refused', data: { code: error.code } });
      if (faultDevice(error.code)) deps.faults.report({ code: error.code });
      screen.show(refusalText(error.code));
      return { outcome: 'refused', code: error.code, wrongPins: pins.wrong };
    }
    deps.faults.report({ code: 'internal' });
    throw error;
  } finally {
    if (pdfs) {
      // Spec§14, S4-2: the certificate data leaves no trace on the kiosk, whatever happened.
      for (const pdf of pdfs) pdf.fill(0);
      deps.audit.append({ kind: 'certificate.erased' });
    }
    await deps.reader.disconnect().catch(() => undefined);
  }
}

async function unlockCard(card: JpkiCard, input: KioskInput, deps: KioskDependencies, pins: { wrong: number }): Promise<void> {
  const { screen } = deps;
  let triesLeft = await card.authPinTriesLeft();
  for (;;) {
    if (triesLeft <= 0) throw new AppError('refused', 'card.locked', 'the PIN is locked');
    screen.show(SCREEN.enterPin);
    const pin = await input.enterPin(triesLeft);
    if (pin === undefined) throw new Cancelled();
    let result: Awaited<ReturnType<JpkiCard['verifyAuthPin']>>;
    try {
      result = await card.verifyAuthPin(pin);
    } catch (error) {
      // Not four digits: never sent to the card, costs no try; ask again.
      if (!(error instanceof AppError && error.code === 'card.pin_format')) throw error;
      screen.show(refusalText(error.code));
      continue;
    }
    if (result.ok) return;
    pins.wrong += 1;
    deps.audit.append({ kind: 'pin.wrong', data: { attempt: pins.wrong } });
    triesLeft = result.triesLeft;
    if (triesLeft > 0) screen.show(SCREEN.wrongPin(triesLeft));
  }
}

async function authenticate(deps: KioskDependencies, card: JpkiCard, certificateDer: Uint8Array): Promise<AuthenticateResponse> {
  const challenge = await deps.gateway.challenge();
  const signed = signedChallengeBytes(base64Decode(challenge.challengeBase64), deps.identity.kioskId);
  const signature = await card.signAuth(digestInfoForSha256(deps.sha256(signed)));
  return deps.gateway.authenticate({
    challengeId: challenge.challengeId,
    certificateDerBase64: base64Encode(certificateDer),
    signatureBase64: base64Encode(signature),
  });
}

function assertChoice(menu: MenuItem[], choice: CertificateChoice): void {
  const item = menu.find((entry) => entry.certificateType === choice.certificateType);
  if (!item) throw new AppError('refused', 'request.type_not_offered', 'not on the menu');
  for (const [key, value] of Object.entries(choice.options ?? {})) {
    const option = item.options.find((entry) => entry.key === key);
    if (!option?.choices.some((entry) => entry.value === value)) throw new AppError('refused', 'request.option_not_offered', 'not on the menu');
  }
  if (!item.available) throw new AppError('refused', 'hours.municipality_closed', 'not available now');
  if (!Number.isSafeInteger(choice.copies) || choice.copies < 1 || choice.copies > item.maxCopies) {
    throw new AppError('refused', 'request.too_many_copies', `copies must be 1..${item.maxCopies}`);
  }
}

async function collectCash(deps: KioskDependencies, input: KioskInput, feeYen: number): Promise<void> {
  while (deps.cash.insertedYen() < feeYen) {
    deps.screen.show(SCREEN.insertCash(feeYen, deps.cash.insertedYen()));
    const money = await input.nextCash(feeYen, deps.cash.insertedYen());
    if (money === undefined) throw new Cancelled();
    try {
      await deps.cash.insert(money);
    } catch (error) {
      // A note the acceptor hands back is not a failed transaction: say so and keep taking cash.
      if (!(error instanceof AppError && error.code === 'cash.rejected')) throw error;
      deps.screen.show(refusalText(error.code));
    }
  }
}

async function payPrintAndRecord(
  deps: KioskDependencies,
  input: KioskInput,
  data: CertificateData,
  pdfs: Uint8Array[],
): Promise<Outcome> {
  const notice = (outcome: CompletionOutcome, atMs: number, voided?: VoidedSerials): CompletionNotice => ({
    issuanceId: data.requestId,
    issuedAt: formatUtcIso(atMs),
    storeId: deps.identity.storeId,
    kioskId: deps.identity.kioskId,
    municipalityCode: data.municipalityCode,
    certificateType: data.certificateType,
    copies: outcome === 'issued' ? data.copies : 0,
    feeYen: outcome === 'issued' ? data.feeYen : 0,
    outcome,
    ...(voided ? { voided } : {}),
  });
  try {
    await collectCash(deps, input, data.feeYen);
  } catch (error) {
    await refundAndRecord(deps, data, notice, 0);
    throw error;
  }
  let printed = 0;
  try {
    for (let copy = 1; copy <= data.copies; copy += 1) {
      deps.screen.show(SCREEN.printing(copy, data.copies));
      await deps.printer.print({ kind: 'certificate', requestId: data.requestId, copyNumber: copy, pdf: pdfs[copy - 1]! });
      printed = copy;
      deps.audit.append({ kind: 'certificate.printed', data: { requestId: data.requestId, copy } });
    }
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'printer.fault';
    deps.faults.report({ requestId: data.requestId, code });
    return abortAfterPrinting(deps, data, notice, printed, code);
  }
  for (const pdf of pdfs) pdf.fill(0);
  const paidYen = deps.cash.insertedYen();
  let changeYen: number;
  try {
    ({ changeYen } = await deps.cash.settle(data.feeYen));
  } catch (error) {
    // The unit kept nothing (no change to pay, or a fault), so the printed copies are unpaid: void
    // them and return the money, as for a misprint, rather than leave cash and copies in limbo.
    const code = error instanceof AppError ? error.code : 'cash.fault';
    deps.faults.report({ requestId: data.requestId, code });
    return abortAfterPrinting(deps, data, notice, data.copies, code);
  }
  deps.audit.append({ kind: 'payment.taken', data: { requestId: data.requestId, feeYen: data.feeYen, paidYen, changeYen } });
  const issuedAtMs = deps.clock.nowMs();
  deps.ledger.recordTransaction(transactionRecord(data, 'issued', issuedAtMs, paidYen - changeYen), notice('issued', issuedAtMs));
  if (changeYen > 0) deps.screen.show(SCREEN.change(changeYen));
  await printReceipt(deps, data, paidYen, changeYen, issuedAtMs);
  deps.screen.show(SCREEN.done);
  return { outcome: 'issued', requestId: data.requestId, certificateType: data.certificateType, copies: data.copies, feeYen: data.feeYen, changeYen };
}

type NoticeOf = (outcome: CompletionOutcome, atMs: number, voided?: VoidedSerials) => CompletionNotice;

/**
 * A misprint, or a cash fault once printing began (C§9): refund everything and void every serial
 * of the transaction, printed or not, at the centre through the outbox, in the same write as the
 * refund's record; then tell the clerk to stamp each copy 「返金済・無効」, and print a slip listing
 * the serials if the printer still can. The void holds whether or not the slip comes out.
 */
async function abortAfterPrinting(deps: KioskDependencies, data: CertificateData, notice: NoticeOf, printedCopies: number, code: string): Promise<Outcome> {
  const serials = certificateSerials(data.requestId, data.copies);
  const refundedYen = await refundAndRecord(deps, data, notice, printedCopies, { serials, code });
  deps.screen.show(refusalText(code));
  deps.screen.show(SCREEN.refunded(refundedYen));
  deps.screen.show(SCREEN.stampVoid(serials));
  await printVoidSlip(deps, data, serials);
  return { outcome: 'refunded', requestId: data.requestId, code, refundedYen, voidedSerials: serials };
}

function transactionRecord(data: CertificateData, outcome: CompletionOutcome, atMs: number, cashKeptYen = 0): KioskTransactionRecord {
  const issued = outcome === 'issued';
  return {
    requestId: data.requestId,
    issuedAtMs: atMs,
    municipalityCode: data.municipalityCode,
    certificateType: data.certificateType,
    copies: issued ? data.copies : 0,
    feeYen: issued ? data.feeYen : 0,
    cashKeptYen,
    outcome,
  };
}

/** A refund after certificate data arrived (C§9): everything back, the notice says 0, voids go with it. */
async function refundAndRecord(deps: KioskDependencies, data: CertificateData, notice: NoticeOf, printedCopies: number, voided?: VoidedSerials): Promise<number> {
  const { refundedYen } = await deps.cash.refundAll();
  deps.audit.append({ kind: 'payment.refunded', data: { requestId: data.requestId, refundedYen, copies: printedCopies } });
  const atMs = deps.clock.nowMs();
  deps.ledger.recordTransaction(transactionRecord(data, 'refunded', atMs), notice('refunded', atMs, voided));
  if (voided) deps.audit.append({ kind: 'serials.voided', data: { requestId: data.requestId, code: voided.code, count: voided.serials.length } });
  return refundedYen;
}

/** The 「返金済・無効」 slip; a printer that cannot print it is a fault to report, the void stands. */
async function printVoidSlip(deps: KioskDependencies, data: CertificateData, serials: string[]): Promise<void> {
  try {
    const pdf = await deps.renderVoidNotice({ requestId: data.requestId, kioskId: deps.identity.kioskId, serials, createdAtMs: deps.clock.nowMs() });
    await deps.printer.print({ kind: 'void-notice', requestId: data.requestId, pdf });
    deps.audit.append({ kind: 'misprint.voided', data: { requestId: data.requestId, copies: serials.length } });
  } catch (error) {
    deps.faults.report({ requestId: data.requestId, code: error instanceof AppError ? error.code : 'printer.fault' });
    deps.screen.show(SCREEN.voidSlipFailed);
  }
}

async function printReceipt(deps: KioskDependencies, data: CertificateData, paidYen: number, changeYen: number, atMs: number): Promise<void> {
  const pdf = await deps.renderReceipt({
    storeName: deps.identity.storeName,
    storeId: deps.identity.storeId,
    kioskId: deps.identity.kioskId,
    requestId: data.requestId,
    certificateTitle: data.title,
    copies: data.copies,
    unitFeeYen: data.unitFeeYen,
    feeYen: data.feeYen,
    paidYen,
    changeYen,
    issuedAtText: formatJstDateTime(atMs),
    municipalityName: data.municipalityName,
    createdAtMs: atMs,
  });
  // The certificates are out and paid for; a receipt jam is a fault to report, not a refund.
  await deps.printer
    .print({ kind: 'receipt', requestId: data.requestId, pdf })
    .then(() => deps.audit.append({ kind: 'receipt.printed', data: { requestId: data.requestId } }))
    .catch((error: unknown) => deps.faults.report({ requestId: data.requestId, code: error instanceof AppError ? error.code : 'printer.fault' }));
}
