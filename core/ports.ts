// Ports: what the core needs from the world. Real and simulated drivers in drivers/ implement them.

export interface Clock {
  nowMs(): number;
}

/** Timers as a port, so schedules (witness offers, refusal counts) run on virtual time in tests. */
export interface Timers {
  nowMs(): number;
  set(run: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/** One APDU exchange with a smart card: command bytes in, response data + SW1 SW2 out. */
export interface CardChannel {
  transmit(command: Uint8Array): Promise<Uint8Array>;
}

/** A card reader slot. connect() fails with AppError refused 'card.absent' when no card is there. */
export interface CardReader {
  readonly name: string;
  connect(): Promise<CardChannel>;
  disconnect(): Promise<void>;
}

export type Denomination = 10 | 50 | 100 | 500 | 1000 | 2000 | 5000 | 10000;

/** The kiosk's cash unit: takes notes and coins, returns change, refunds. */
export interface CashUnit {
  /** Accepts one note or coin. Throws AppError refused 'cash.rejected' / 'cash.fault'. */
  insert(yen: Denomination): Promise<void>;
  /** Yen inserted in the current transaction and not yet kept or returned. */
  insertedYen(): number;
  /** Keeps feeYen and returns the rest as change; returns the change paid out. */
  settle(feeYen: number): Promise<{ changeYen: number }>;
  /** Returns everything inserted in the current transaction; returns the yen returned. */
  refundAll(): Promise<{ refundedYen: number }>;
}

export type PrintKind = 'certificate' | 'receipt' | 'void-notice';

export interface PrintJob {
  kind: PrintKind;
  /** Request the job belongs to, and the copy number for certificates (1-based). */
  requestId: string;
  copyNumber?: number;
  pdf: Uint8Array;
}

/** The kiosk's printer. print() throws AppError refused 'printer.jam' / 'printer.paper_out' / 'printer.fault'. */
export interface Printer {
  print(job: PrintJob): Promise<{ pages: number }>;
}
