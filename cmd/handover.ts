// `center handover --operator OP --out DIR`: what passes to J-LIS when an operator's contract ends
// (C§21: 交付情報及び委託手数料を差引いた交付手数料等を甲に引き継ぐ). From the centre's database it
// writes the operator's handling records (records.csv, as corrected, every month) and handover.json:
// each month's fees, commission and amount due (C§13), what was paid and what is still owed with its
// C§17 interest as of the day, and the items still open: months not confirmed by both parties,
// requests issued but never noticed, incidents not resolved, notices still to come.

import fs from 'node:fs';
import path from 'node:path';
import { HANDLING_CSV_HEADER, formatHandlingRow } from '../core/handling-csv.ts';
import { usageError } from '../core/errors.ts';
import { formatJstIso, isIsoDate, jstMonth } from '../core/jst.ts';
import { operatorNoticesFrom } from '../drivers/store/operator-notices.ts';
import { incidentSummaries } from '../drivers/store/incidents.ts';
import { allRecords, unnoticedRequests } from '../drivers/store/settlement-store.ts';
import { openCenterDatabase } from '../drivers/store/center-store.ts';
import type { Factory } from './factory.ts';
import { runInvoice } from './invoice.ts';
import { centerDatabase } from './config.ts';

export interface HandoverMonth {
  month: string;
  documents: number;
  feesYen: number;
  commissionYen: number;
  amountDueYen: number;
  receivedYen: number;
  balanceYen: number;
  lateInterestYen: number;
  confirmed: boolean;
  unnoticedRequests: number;
}

export interface Handover {
  operatorId: string;
  asOf: string;
  records: number;
  months: HandoverMonth[];
  /** Owed by the operator to J-LIS as of the day: balances and late interest. */
  owedToJlisYen: number;
  /** Owed by J-LIS to the operator: months whose commission passed their fees (refunds), not yet settled. */
  owedToOperatorYen: number;
  openItems: string[];
}

export function runHandover(options: { dir: string; operator: string; out: string; asOf?: string }, factory: Factory): Handover {
  const loaded = factory.deployment(options.dir);
  if (!loaded.config.relays.some((relay) => relay.operatorId === options.operator)) throw usageError(`no operator ${options.operator} in this deployment`, '--operator');
  // The JST date today: formatJstIso gives YYYY-MM-DDThh:mm:ss+09:00.
  const asOf = options.asOf ?? formatJstIso(factory.clock.nowMs()).slice(0, 10);
  if (!isIsoDate(asOf)) throw usageError('--as-of must be a real date YYYY-MM-DD', '--as-of');
  if (fs.existsSync(options.out)) {
    if (!fs.statSync(options.out).isDirectory()) throw usageError(`${options.out} is a file; give a new folder`, '--out');
    if (fs.readdirSync(options.out).length > 0) throw usageError(`${options.out} is not empty; give a new folder`, '--out');
  }
  const db = openCenterDatabase(centerDatabase(loaded));
  let handover: Handover;
  let csv: string;
  try {
    // Each row as reconcile and export write it (formatHandlingRow ends it with its newline).
    const rows: string[] = [];
    const months = new Set<string>();
    for (const record of allRecords(db)) {
      if (record.operatorId !== options.operator) continue;
      rows.push(formatHandlingRow(record));
      months.add(jstMonth(Date.parse(record.issuedAt)));
    }
    csv = `${HANDLING_CSV_HEADER}\n${rows.join('')}`;
    const monthly = [...months].sort().map((month) => monthOf(options, month, asOf, db, factory));
    const openItems = [
      ...monthly.filter((month) => !month.confirmed).map((month) => `${month.month}: not confirmed by both parties`),
      ...monthly.filter((month) => month.balanceYen > 0).map((month) => `${month.month}: ¥${month.balanceYen} still owed`),
      ...monthly.filter((month) => month.unnoticedRequests > 0).map((month) => `${month.month}: ${month.unnoticedRequests} request(s) issued but never noticed`),
      ...incidentSummaries(db)
        .filter((incident) => incident.operatorId === options.operator && incident.status !== 'resolved')
        .map((incident) => `incident ${incident.incidentId} (${incident.kind}) not resolved, last report ${incident.sequence}`),
      ...operatorNoticesFrom(db, factory.clock.nowMs())
        .filter((notice) => notice.operatorId === options.operator)
        .map((notice) => `notice ${notice.noticeId} (${notice.kind}) until ${formatJstIso(notice.endsAtMs)}`),
    ];
    handover = {
      operatorId: options.operator,
      asOf,
      records: rows.length,
      months: monthly,
      owedToJlisYen: monthly.reduce((sum, month) => sum + month.balanceYen + month.lateInterestYen, 0),
      owedToOperatorYen: monthly.reduce((sum, month) => sum + Math.max(0, -month.amountDueYen), 0),
      openItems,
    };
  } finally {
    db.close();
  }
  // Both files in a folder beside it, then renamed into place: a handover is there whole or not at all.
  const staging = `${path.resolve(options.out)}.${process.pid}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(staging, 'records.csv'), csv, { mode: 0o600 });
  fs.writeFileSync(path.join(staging, 'handover.json'), `${JSON.stringify(handover, null, 2)}\n`, { mode: 0o600 });
  if (fs.existsSync(options.out)) fs.rmdirSync(options.out);
  fs.renameSync(staging, options.out);
  return handover;
}

function monthOf(options: { dir: string; operator: string }, month: string, asOf: string, db: ReturnType<typeof openCenterDatabase>, factory: Factory): HandoverMonth {
  const invoice = runInvoice({ dir: options.dir, operator: options.operator, month, asOf, json: true }, { ...factory, io: { ...factory.io, err: () => undefined } });
  // As the centre's store judges it (center-store.ts isMonthConfirmed): both parties, or the lock before issue 8.
  const confirmed =
    db.get('SELECT 1 AS found FROM confirmed_months WHERE month = :month', { month }) !== undefined ||
    db.get('SELECT 1 AS found FROM month_confirmations WHERE month = :month AND operator_id = :operatorId', { month, operatorId: options.operator }) !== undefined;
  return {
    month,
    documents: invoice.documents,
    feesYen: invoice.feesYen,
    commissionYen: invoice.commissionYen,
    amountDueYen: invoice.amountDueYen,
    receivedYen: invoice.payments?.receivedYen ?? 0,
    balanceYen: invoice.payments?.balanceYen ?? Math.max(0, invoice.amountDueYen),
    lateInterestYen: invoice.payments?.lateInterestYen ?? 0,
    confirmed,
    unnoticedRequests: unnoticedRequests(db, month, options.operator).length,
  };
}
