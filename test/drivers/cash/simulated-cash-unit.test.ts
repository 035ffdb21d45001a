// Proves the simulated cash unit keeps exact payments, pays change from its stock, refunds, and refuses short payments, unknown or rejected money and jams with stable codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../core/errors.ts';
import type { Denomination } from '../../../core/ports.ts';
import { SimulatedCashUnit } from '../../../drivers/cash/simulated-cash-unit.ts';

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected AppError ${code}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.kind, code === 'cash.amount' ? 'internal' : 'refused');
  return error;
}

async function insertAll(unit: SimulatedCashUnit, pieces: Denomination[]): Promise<void> {
  for (const yen of pieces) await unit.insert(yen);
}

describe('SimulatedCashUnit', () => {
  it('keeps an exact payment with no change', async () => {
    const unit = new SimulatedCashUnit();
    await insertAll(unit, [100, 100, 100]);
    assert.equal(unit.insertedYen(), 300);
    assert.deepEqual(await unit.settle(300), { changeYen: 0 });
    assert.equal(unit.insertedYen(), 0);
    assert.equal(unit.takenYen(), 300);
  });

  it('pays change from its stock and adds only the fee to the day total', async () => {
    const unit = new SimulatedCashUnit({ changeStockYen: 5000 });
    await insertAll(unit, [1000]);
    assert.deepEqual(await unit.settle(350), { changeYen: 650 });
    await insertAll(unit, [500, 10, 10, 10, 10, 10, 50]);
    assert.deepEqual(await unit.settle(600), { changeYen: 0 });
    assert.equal(unit.takenYen(), 950);
    assert.equal(unit.remainingChangeStockYen(), 4350);
  });

  it('refuses to settle an insufficient payment and leaves the money refundable', async () => {
    const unit = new SimulatedCashUnit();
    await insertAll(unit, [100, 50]);
    await rejectsWith(unit.settle(200), 'cash.insufficient');
    assert.equal(unit.insertedYen(), 150);
    assert.deepEqual(await unit.refundAll(), { refundedYen: 150 });
    assert.equal(unit.insertedYen(), 0);
    assert.equal(unit.takenYen(), 0);
  });

  it('keeps nothing when it cannot pay the change', async () => {
    const unit = new SimulatedCashUnit({ changeStockYen: 1000 });
    await insertAll(unit, [10000]);
    await rejectsWith(unit.settle(300), 'cash.no_change');
    assert.equal(unit.takenYen(), 0);
    assert.deepEqual(await unit.refundAll(), { refundedYen: 10000 });
    assert.deepEqual(await unit.refundAll(), { refundedYen: 0 });
  });

  it('rejects money that is not a Japanese denomination, and denominations it is told to reject', async () => {
    const unit = new SimulatedCashUnit({ faults: { rejectDenominations: [2000] } });
    await rejectsWith(unit.insert(5 as Denomination), 'cash.rejected');
    await rejectsWith(unit.insert(2000), 'cash.rejected');
    await unit.insert(1000);
    assert.equal(unit.insertedYen(), 1000);
  });

  it('jams on the configured insert without counting the jammed piece', async () => {
    const unit = new SimulatedCashUnit({ faults: { jamOnInsertNumber: 2 } });
    await unit.insert(100);
    await rejectsWith(unit.insert(500), 'cash.fault');
    assert.equal(unit.insertedYen(), 100);
    await unit.insert(500);
    assert.equal(unit.insertedYen(), 600);
  });

  it('takes whole yen only', async () => {
    const unit = new SimulatedCashUnit();
    await unit.insert(100);
    await rejectsWith(unit.settle(99.5), 'cash.amount');
    assert.throws(() => new SimulatedCashUnit({ changeStockYen: -1 }), { code: 'cash.amount' });
  });
});
