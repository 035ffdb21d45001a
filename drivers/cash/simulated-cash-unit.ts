// A kiosk cash unit in software: takes notes and coins, pays change from a limited stock, refunds,
// and can be told to reject some denominations or jam, so fault paths can be exercised.

import { AppError } from '../../core/errors.ts';
import type { CashUnit, Denomination } from '../../core/ports.ts';

export const DENOMINATIONS_YEN: readonly Denomination[] = [10, 50, 100, 500, 1000, 2000, 5000, 10000];

export interface SimulatedCashUnitFaults {
  /** Denominations the acceptor hands back as if it could not validate them. */
  rejectDenominations?: number[];
  /** The Nth insert over the unit's lifetime (1-based) jams: it is neither kept nor returned. */
  jamOnInsertNumber?: number;
}

export interface SimulatedCashUnitOptions {
  /** Yen available to pay change from; change taken from it is not replenished by payments. */
  changeStockYen?: number;
  faults?: SimulatedCashUnitFaults;
}

const DEFAULT_CHANGE_STOCK_YEN = 20000;

export class SimulatedCashUnit implements CashUnit {
  private changeStockYen: number;
  private faults: SimulatedCashUnitFaults;
  private currentInsertedYen = 0;
  private totalTakenYen = 0;
  private insertCount = 0;

  constructor(options: SimulatedCashUnitOptions = {}) {
    this.changeStockYen = options.changeStockYen ?? DEFAULT_CHANGE_STOCK_YEN;
    assertYen(this.changeStockYen, 'changeStockYen');
    this.faults = options.faults ?? {};
  }

  async insert(yen: Denomination): Promise<void> {
    if (!DENOMINATIONS_YEN.includes(yen)) throw new AppError('refused', 'cash.rejected', `the cash unit does not take ${yen} yen`);
    this.insertCount += 1;
    if (this.faults.rejectDenominations?.includes(yen)) {
      throw new AppError('refused', 'cash.rejected', `the cash unit could not validate a ${yen} yen piece and returned it`);
    }
    if (this.faults.jamOnInsertNumber === this.insertCount) {
      throw new AppError('refused', 'cash.fault', `the cash unit jammed on insert ${this.insertCount}`);
    }
    this.currentInsertedYen += yen;
  }

  insertedYen(): number {
    return this.currentInsertedYen;
  }

  async settle(feeYen: number): Promise<{ changeYen: number }> {
    assertYen(feeYen, 'feeYen');
    if (this.currentInsertedYen < feeYen) {
      throw new AppError('refused', 'cash.insufficient', `inserted ${this.currentInsertedYen} yen, the fee is ${feeYen} yen`);
    }
    const changeYen = this.currentInsertedYen - feeYen;
    if (changeYen > this.changeStockYen) {
      // Nothing is kept: the customer can take their money back with refundAll().
      throw new AppError('refused', 'cash.no_change', `cannot pay ${changeYen} yen change from the unit's stock`);
    }
    this.changeStockYen -= changeYen;
    this.totalTakenYen += feeYen;
    this.currentInsertedYen = 0;
    return { changeYen };
  }

  async refundAll(): Promise<{ refundedYen: number }> {
    const refundedYen = this.currentInsertedYen;
    this.currentInsertedYen = 0;
    return { refundedYen };
  }

  /** Sets the faults to come (insert numbers over the unit's lifetime), as FolderPrinter.injectFaults does for pages. */
  injectFaults(faults: SimulatedCashUnitFaults): void {
    this.faults = { ...faults };
  }

  /** Inserts over the unit's lifetime, accepted or not: the count `jamOnInsertNumber` refers to. */
  insertsSoFar(): number {
    return this.insertCount;
  }

  /** The clerk refills (or empties) the change stock. */
  setChangeStockYen(yen: number): void {
    assertYen(yen, 'changeStockYen');
    this.changeStockYen = yen;
  }

  /** Yen kept over the unit's lifetime, for the store's daily total. */
  takenYen(): number {
    return this.totalTakenYen;
  }

  remainingChangeStockYen(): number {
    return this.changeStockYen;
  }
}

function assertYen(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AppError('internal', 'cash.amount', `${field} must be a whole, non-negative number of yen, got ${value}`);
  }
}
