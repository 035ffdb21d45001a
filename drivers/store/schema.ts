// The schema of each role's database, as versioned migrations. Times are UTC ISO-8601 text or
// epoch milliseconds (columns ending in _ms); money is integer yen.

import type { Migration } from './migrate.ts';

/** Triggers that refuse UPDATE and DELETE on a table: a second line of defence for append-only data. */
function appendOnly(table: string, message: string): string {
  return `
    CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END;
    CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END;`;
}

/**
 * Handling records (取扱い実績データ, Spec§4) as both sides keep them: the interchange columns, in
 * UTC, append-only (corrections arrive as new notices, never as edits).
 */
function handlingRecordsTable(extraColumns: string): string {
  return `
    CREATE TABLE handling_records (
      issuance_id TEXT PRIMARY KEY,
      issued_at TEXT NOT NULL,
      operator_id TEXT NOT NULL,
      store_id TEXT NOT NULL,
      kiosk_id TEXT NOT NULL,
      municipality_code TEXT NOT NULL,
      certificate_type TEXT NOT NULL,
      copies INTEGER NOT NULL CHECK (copies >= 0),
      fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0)${extraColumns}
    ) STRICT;
    CREATE INDEX handling_records_issued_at ON handling_records (issued_at);
    ${appendOnly('handling_records', 'handling records are append-only')}`;
}

/**
 * Correction notices (Spec§13-2): errors found after a completion notice arrive as new rows, never
 * as edits; the effective record is the original with its latest correction's copies and fee.
 */
function correctionsTable(confirmedMonthLock: boolean): string {
  const lock = confirmedMonthLock
    ? `CREATE TRIGGER handling_corrections_month_confirmed BEFORE INSERT ON handling_corrections
         WHEN EXISTS (SELECT 1 FROM confirmed_months c JOIN handling_records h ON h.issuance_id = NEW.issuance_id
                      WHERE c.month = strftime('%Y-%m', h.issued_at, '+9 hours'))
         BEGIN SELECT RAISE(ABORT, 'the month of this record is confirmed'); END;`
    : '';
  return `
    CREATE TABLE handling_corrections (
      correction_id TEXT PRIMARY KEY,
      issuance_id TEXT NOT NULL REFERENCES handling_records (issuance_id),
      corrected_at TEXT NOT NULL,
      copies INTEGER NOT NULL CHECK (copies >= 0),
      fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),
      reason TEXT NOT NULL -- a code (core/messages.ts CORRECTION_REASONS), never free text
    ) STRICT;
    CREATE INDEX handling_corrections_issuance ON handling_corrections (issuance_id, corrected_at);
    ${appendOnly('handling_corrections', 'corrections are append-only')}
    ${lock}
    CREATE VIEW effective_handling_records AS
      SELECT h.issuance_id, h.issued_at, h.operator_id, h.store_id, h.kiosk_id, h.municipality_code, h.certificate_type,
        COALESCE((SELECT c.copies FROM handling_corrections c WHERE c.issuance_id = h.issuance_id
                  ORDER BY c.corrected_at DESC, c.correction_id DESC LIMIT 1), h.copies) AS copies,
        COALESCE((SELECT c.fee_yen FROM handling_corrections c WHERE c.issuance_id = h.issuance_id
                  ORDER BY c.corrected_at DESC, c.correction_id DESC LIMIT 1), h.fee_yen) AS fee_yen
      FROM handling_records h;`;
}

/** The tamper-evident audit log every role keeps (S4-5, P4): entries, signed checkpoints. */
const AUDIT_LOG_SQL = `
  CREATE TABLE audit_entries (
    idx INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,     -- the exact bytes hashed: core/audit-entry.ts encodeAuditEntry
    leaf_hash BLOB NOT NULL  -- SHA-256(0x00 || entry)
  ) STRICT;
  CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL,      -- C2SP signed note over a tlog-checkpoint
    created_at TEXT NOT NULL
  ) STRICT;
  -- A second line of defence: the Merkle tree and the signatures are the first.
  ${appendOnly('audit_entries', 'the audit log is append-only')}
  ${appendOnly('audit_checkpoints', 'the audit log is append-only')}
`;

/** The operator's own notices, kept alike by the centre and the relay (drivers/store/operator-notices.ts). */
const OPERATOR_NOTICES_SQL = `
      CREATE TABLE operator_notices (
        notice_id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('maintenance', 'stop')),
        starts_at_ms INTEGER NOT NULL,
        ends_at_ms INTEGER NOT NULL CHECK (ends_at_ms > starts_at_ms),
        message TEXT NOT NULL,  -- shown on the operator's kiosk screens; never personal data
        emergency INTEGER NOT NULL CHECK (emergency IN (0, 1)),
        received_at TEXT NOT NULL
      ) STRICT;
      ${appendOnly('operator_notices', 'operator notices are append-only')}
`;

/** Accident reports, kept alike by the centre and the relay (drivers/store/incidents.ts). */
const INCIDENT_REPORTS_SQL = `
      CREATE TABLE incident_reports (
        incident_id TEXT NOT NULL,
        sequence INTEGER NOT NULL CHECK (sequence >= 1),
        operator_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('printing', 'issuance', 'unable')),
        status TEXT NOT NULL CHECK (status IN ('open', 'update', 'resolved')),
        occurred_at TEXT NOT NULL,
        kiosk_id TEXT,
        request_id TEXT,   -- pseudonymous, as everywhere
        summary TEXT NOT NULL, -- the operator's words; never a resident's name (the command says so)
        received_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, sequence)
      ) STRICT;
      ${appendOnly('incident_reports', 'incident reports are append-only')}
`;

/**
 * The stored Merkle tree (interior nodes of every complete subtree, so proofs and opening a log
 * read O(log n) rows) and the cosignatures witnesses gave the log (docs/audit-log.md).
 */
const AUDIT_TREE_SQL = `
  CREATE TABLE audit_nodes (
    level INTEGER NOT NULL CHECK (level >= 1), -- level 0 is audit_entries.leaf_hash
    idx INTEGER NOT NULL,                      -- covers leaves [idx * 2^level, (idx + 1) * 2^level)
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE audit_cosignatures (
    size INTEGER NOT NULL,
    witness TEXT NOT NULL,   -- the witness key's name
    note TEXT NOT NULL,      -- checkpoint body, the log's signature, the witness's cosignature line
    timestamp INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (size, witness)
  ) STRICT;
  ${appendOnly('audit_nodes', 'the audit log is append-only')}
  ${appendOnly('audit_cosignatures', 'cosignatures are append-only')}
`;

export const CENTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'municipalities, residents, operators, challenges, sessions, requests, handling records',
    sql: `
      CREATE TABLE operators (
        operator_id TEXT PRIMARY KEY,
        name TEXT NOT NULL
      ) STRICT;
      CREATE TABLE municipalities (
        code TEXT PRIMARY KEY,
        definition TEXT NOT NULL -- JSON: core/municipality.ts Municipality
      ) STRICT;
      CREATE TABLE residents (
        resident_id TEXT PRIMARY KEY,
        municipality_code TEXT NOT NULL,
        card_serial_hex TEXT UNIQUE,
        record TEXT NOT NULL -- JSON: core/resident.ts Resident (personal data: this file is 0600)
      ) STRICT;
      CREATE TABLE challenges (
        challenge_id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        challenge BLOB NOT NULL,
        expires_at_ms INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      CREATE TABLE sessions (
        session_token TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        resident_id TEXT NOT NULL,
        resident_ref TEXT NOT NULL,
        municipality_code TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE requests (
        request_id TEXT PRIMARY KEY,
        session_token TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        store_id TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        municipality_code TEXT NOT NULL,
        certificate_type TEXT NOT NULL,
        copies INTEGER NOT NULL,
        unit_fee_yen INTEGER NOT NULL,
        content_sha256 TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
      ) STRICT;
      ${handlingRecordsTable('')}
    `,
  },
  {
    version: 2,
    name: 'confirmed months lock their handling records',
    sql: `
      CREATE TABLE confirmed_months (
        month TEXT PRIMARY KEY, -- YYYY-MM of the JST issuance date
        confirmed_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        documents INTEGER NOT NULL,
        fees_yen INTEGER NOT NULL
      ) STRICT;
      ${appendOnly('confirmed_months', 'a confirmed month cannot be changed')}
      -- The database itself refuses records of a confirmed month, even from outside the application.
      CREATE TRIGGER handling_records_month_confirmed BEFORE INSERT ON handling_records
        WHEN EXISTS (SELECT 1 FROM confirmed_months WHERE month = strftime('%Y-%m', NEW.issued_at, '+9 hours'))
        BEGIN SELECT RAISE(ABORT, 'the month of this record is confirmed'); END;
    `,
  },
  { version: 3, name: 'audit log', sql: AUDIT_LOG_SQL },
  { version: 4, name: 'correction notices', sql: correctionsTable(true) },
  {
    version: 5,
    name: "the relays' audit keys and the checkpoints the centre witnessed",
    sql: `
      ALTER TABLE operators ADD COLUMN audit_key TEXT; -- C2SP verifier key of the operator's relay log
      CREATE TABLE witnessed_relay_checkpoints (
        operator_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (operator_id, size)
      ) STRICT;
      ${appendOnly('witnessed_relay_checkpoints', 'witnessed checkpoints are append-only')}
    `,
  },
  {
    version: 6,
    name: 'announced maintenance windows and stop notices',
    sql: `
      CREATE TABLE service_notices (
        notice_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('maintenance', 'stop')),
        starts_at_ms INTEGER NOT NULL,
        ends_at_ms INTEGER NOT NULL CHECK (ends_at_ms > starts_at_ms),
        municipality_code TEXT, -- null: the whole service
        message TEXT NOT NULL,  -- shown on kiosk screens; never personal data
        created_at TEXT NOT NULL
      ) STRICT;
      ${appendOnly('service_notices', 'announced notices are append-only')}
    `,
  },
  { version: 7, name: 'stored audit tree and cosignatures', sql: AUDIT_TREE_SQL },
  {
    version: 8,
    name: 'two-party confirmation per operator, submissions, and adjustments (過誤調整) for late notices and supplied records',
    sql: `
      -- Spec§4-3, C§3(3): the operator's reconciliation result, as it arrived through its relay.
      CREATE TABLE settlement_submissions (
        month TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        documents INTEGER NOT NULL,
        fees_yen INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (month, operator_id, received_at)
      ) STRICT;
      ${appendOnly('settlement_submissions', 'submissions are append-only')}
      -- The lock: both parties agreed these totals for the month.
      CREATE TABLE month_confirmations (
        month TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        documents INTEGER NOT NULL,
        fees_yen INTEGER NOT NULL,
        PRIMARY KEY (month, operator_id)
      ) STRICT;
      ${appendOnly('month_confirmations', 'a confirmed month cannot be changed')}
      CREATE TRIGGER handling_records_operator_month_confirmed BEFORE INSERT ON handling_records
        WHEN EXISTS (SELECT 1 FROM month_confirmations WHERE operator_id = NEW.operator_id AND month = strftime('%Y-%m', NEW.issued_at, '+9 hours'))
        BEGIN SELECT RAISE(ABORT, 'the month of this record is confirmed'); END;
      CREATE TRIGGER handling_corrections_operator_month_confirmed BEFORE INSERT ON handling_corrections
        WHEN EXISTS (SELECT 1 FROM month_confirmations c JOIN handling_records h ON h.issuance_id = NEW.issuance_id
                     WHERE c.operator_id = h.operator_id AND c.month = strftime('%Y-%m', h.issued_at, '+9 hours'))
        BEGIN SELECT RAISE(ABORT, 'the month of this record is confirmed'); END;
      -- A record of a confirmed month that surfaced later (a late notice, or one supplied from the
      -- operator's relay record): never dropped, settled in the next open month (Spec§4-3).
      CREATE TABLE settlement_adjustments (
        issuance_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('late-notice', 'supplied')),
        original_month TEXT NOT NULL,
        settle_month TEXT NOT NULL CHECK (settle_month > original_month),
        issued_at TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        store_id TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        municipality_code TEXT NOT NULL,
        certificate_type TEXT NOT NULL,
        copies INTEGER NOT NULL CHECK (copies >= 0),
        fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),
        recorded_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX settlement_adjustments_settle ON settlement_adjustments (settle_month, operator_id);
      ${appendOnly('settlement_adjustments', 'adjustments are append-only')}
      CREATE TRIGGER settlement_adjustments_settle_month_open BEFORE INSERT ON settlement_adjustments
        WHEN EXISTS (SELECT 1 FROM month_confirmations WHERE operator_id = NEW.operator_id AND month = NEW.settle_month)
        BEGIN SELECT RAISE(ABORT, 'an adjustment must settle in an open month'); END;
      -- Every record of a month for matching (reconcile): the locked ones and those that came late.
      CREATE VIEW settlement_records AS
        SELECT issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen FROM effective_handling_records
        UNION ALL
        SELECT issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen FROM settlement_adjustments;
    `,
  },
  {
    version: 9,
    name: "payments J-LIS received against an operator's monthly invoice",
    sql: `
      -- C§13-3, Spec§4-5: the operator transfers the invoiced amount to J-LIS; C§17 interest is
      -- counted per payment from what arrived when. Rows are never edited: a mistake is a new fact.
      CREATE TABLE invoice_payments (
        payment_id INTEGER PRIMARY KEY,   -- recording order
        month TEXT NOT NULL,              -- the invoiced JST month, YYYY-MM
        operator_id TEXT NOT NULL,
        paid_on TEXT NOT NULL,            -- JST date the money arrived
        amount_yen INTEGER NOT NULL CHECK (amount_yen > 0),
        reference TEXT CHECK (reference IS NULL OR reference <> ''), -- the transfer's reference (振込番号)
        recorded_at TEXT NOT NULL,
        UNIQUE (month, operator_id, reference)
      ) STRICT;
      -- Without a reference, the same day and amount twice is the same payment recorded twice.
      CREATE UNIQUE INDEX invoice_payments_unreferenced ON invoice_payments (month, operator_id, paid_on, amount_yen) WHERE reference IS NULL;
      ${appendOnly('invoice_payments', 'payments are append-only')}
      CREATE TRIGGER invoice_payments_month_confirmed BEFORE INSERT ON invoice_payments
        WHEN NOT EXISTS (SELECT 1 FROM month_confirmations WHERE month = NEW.month AND operator_id = NEW.operator_id)
         AND NOT EXISTS (SELECT 1 FROM confirmed_months WHERE month = NEW.month)
        BEGIN SELECT RAISE(ABORT, 'a payment is recorded only against a confirmed month'); END;
    `,
  },
  {
    version: 10,
    name: 'corrections that arrive after the month was confirmed become adjustments (過誤調整) of the next open month',
    sql: `
      -- Spec§13-2 and Spec§4-3: a correction notice for a confirmed month is never refused. The
      -- month stays as agreed; the difference (never more than nothing: copies only go down) is
      -- settled in the next open month, naming the month it belongs to.
      CREATE TABLE correction_adjustments (
        correction_id TEXT PRIMARY KEY,
        issuance_id TEXT NOT NULL,
        original_month TEXT NOT NULL,
        settle_month TEXT NOT NULL CHECK (settle_month > original_month),
        operator_id TEXT NOT NULL,
        copies INTEGER NOT NULL CHECK (copies >= 0),            -- what the issuance really produced
        fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),
        copies_delta INTEGER NOT NULL CHECK (copies_delta <= 0), -- against what was settled before
        fee_delta_yen INTEGER NOT NULL CHECK (fee_delta_yen <= 0),
        reason TEXT NOT NULL,
        corrected_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX correction_adjustments_settle ON correction_adjustments (settle_month, operator_id);
      CREATE INDEX correction_adjustments_issuance ON correction_adjustments (issuance_id);
      ${appendOnly('correction_adjustments', 'adjustments are append-only')}
      CREATE TRIGGER correction_adjustments_settle_month_open BEFORE INSERT ON correction_adjustments
        WHEN EXISTS (SELECT 1 FROM month_confirmations WHERE operator_id = NEW.operator_id AND month = NEW.settle_month)
        BEGIN SELECT RAISE(ABORT, 'an adjustment must settle in an open month'); END;
      -- Every record of a month as it really was, for reconcile: corrections after the lock applied.
      DROP VIEW settlement_records;
      CREATE VIEW settlement_records AS
        SELECT e.issuance_id, e.issued_at, e.operator_id, e.store_id, e.kiosk_id, e.municipality_code, e.certificate_type,
          COALESCE((SELECT c.copies FROM correction_adjustments c WHERE c.issuance_id = e.issuance_id
                    ORDER BY c.recorded_at DESC, c.correction_id DESC LIMIT 1), e.copies) AS copies,
          COALESCE((SELECT c.fee_yen FROM correction_adjustments c WHERE c.issuance_id = e.issuance_id
                    ORDER BY c.recorded_at DESC, c.correction_id DESC LIMIT 1), e.fee_yen) AS fee_yen
        FROM effective_handling_records e
        UNION ALL
        SELECT issuance_id, issued_at, operator_id, store_id, kiosk_id, municipality_code, certificate_type, copies, fee_yen FROM settlement_adjustments;
    `,
  },
  {
    version: 11,
    name: 'serials of copies voided after a misprint or a cash fault (C§9)',
    sql: `
      -- Every serial of a refunded transaction whose printing began, printed or not: a sheet that
      -- carries one is 「返金済・無効」 (core/certificate-serial.ts). Recorded once per serial.
      CREATE TABLE voided_serials (
        serial TEXT PRIMARY KEY,
        issuance_id TEXT NOT NULL REFERENCES requests (request_id),
        copy INTEGER NOT NULL CHECK (copy >= 1),
        operator_id TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        code TEXT NOT NULL,      -- the fault that voided it (printer.jam, cash.fault …), never free text
        voided_at TEXT NOT NULL, -- as the kiosk's notice says, UTC
        recorded_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX voided_serials_issuance ON voided_serials (issuance_id);
      ${appendOnly('voided_serials', 'voided serials are append-only')}
    `,
  },
  {
    version: 12,
    name: 'the challenge and card answer a session was authenticated with',
    sql: `
      -- The same answer to the same challenge again (a duplicated or retried request) gets the same
      -- session back (core/center-service.ts); the digest is SHA-256 of the card's certificate and
      -- signature, nothing of the resident.
      ALTER TABLE sessions ADD COLUMN challenge_id TEXT;
      ALTER TABLE sessions ADD COLUMN answer_digest TEXT;
      CREATE INDEX sessions_challenge ON sessions (challenge_id);
    `,
  },
  {
    version: 13,
    name: "operators' own maintenance windows and stops, as they notified them (Spec§7-3, Spec§7-4)",
    sql: `
${OPERATOR_NOTICES_SQL}
    `,
  },
  {
    version: 14,
    name: "operators' accident reports and their updates (C§15, Spec§11-3)",
    sql: `
${INCIDENT_REPORTS_SQL}
    `,
  },
  {
    version: 15,
    name: 'inquiries and complaints from the operators, routed to the municipality of the request (C§16, Spec§10)',
    sql: `
      CREATE TABLE inquiries (
        inquiry_id TEXT PRIMARY KEY,
        operator_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        kiosk_id TEXT,
        municipality_code TEXT NOT NULL, -- where J-LIS routed it: the municipality of the request
        summary TEXT NOT NULL,           -- the operator's words; never the resident's details
        status TEXT NOT NULL CHECK (status IN ('received', 'forwarded', 'answered', 'closed')),
        answer TEXT,                     -- the municipality's handling, through J-LIS
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER inquiries_identity BEFORE UPDATE OF inquiry_id, operator_id, request_id, kiosk_id, municipality_code, summary, received_at ON inquiries
      BEGIN SELECT RAISE(ABORT, 'what an inquiry is about does not change'); END;
      CREATE TRIGGER inquiries_no_delete BEFORE DELETE ON inquiries
      BEGIN SELECT RAISE(ABORT, 'inquiries are kept'); END;
    `,
  },
  {
    version: 16,
    name: "a kiosk's live challenge and session found by index",
    sql: `
      -- Every challenge retires the kiosk's live one and every session replaces the kiosk's
      -- (drivers/store/center-store.ts); without these, each did a scan of every challenge and
      -- session not yet purged (a minute of them under load, all of them if purging stops).
      CREATE INDEX challenges_live_by_kiosk ON challenges (operator_id, kiosk_id) WHERE used = 0;
      CREATE INDEX sessions_by_kiosk ON sessions (operator_id, kiosk_id);
    `,
  },
  {
    version: 17,
    name: "cards of residents whose municipality keeps their records in its own system (C§23)",
    sql: `
      -- The centre knows only whose card it is and which municipality to ask; the record itself
      -- comes from the municipality's back end at each use (docs/municipality-backend.md).
      -- resident_id is the national 住民票コード, unique across municipalities.
      CREATE TABLE resident_links (
        card_serial_hex TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL UNIQUE,
        municipality_code TEXT NOT NULL,
        linked_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 18,
    name: 'the options each certificate request was made with (世帯全員, 本籍・筆頭者, 年度 …)',
    sql: `
      -- key=value;key=value in key order (core/certificate-types.ts formatOptions); '' for a type
      -- without options, and for the requests made before types had them.
      ALTER TABLE requests ADD COLUMN options TEXT NOT NULL DEFAULT '';
    `,
  },
];

export const RELAY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'kiosks and operator-side handling records',
    sql: `
      CREATE TABLE kiosks (
        kiosk_id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        store_name TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        last_seen_at TEXT
      ) STRICT;
      ${handlingRecordsTable(', received_at TEXT NOT NULL')}
    `,
  },
  {
    version: 2,
    name: 'store business days: the cash each kiosk took',
    sql: `
      CREATE TABLE store_days (
        kiosk_id TEXT NOT NULL,
        store_id TEXT NOT NULL,
        business_date TEXT NOT NULL, -- JST YYYY-MM-DD
        cash_yen INTEGER NOT NULL CHECK (cash_yen >= 0),
        transactions INTEGER NOT NULL CHECK (transactions >= 0),
        documents INTEGER NOT NULL CHECK (documents >= 0),
        closed_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (kiosk_id, business_date)
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'audit log; kiosk audit keys and the checkpoints the relay witnessed',
    sql: `${AUDIT_LOG_SQL}
      ALTER TABLE kiosks ADD COLUMN audit_key TEXT; -- C2SP verifier key of the kiosk's audit log
      CREATE TABLE witnessed_checkpoints (
        kiosk_id TEXT NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (kiosk_id, size)
      ) STRICT;
      ${appendOnly('witnessed_checkpoints', 'witnessed checkpoints are append-only')}
    `,
  },
  { version: 4, name: 'correction notices', sql: correctionsTable(false) },
  {
    version: 5,
    name: 'what the centre has witnessed of the relay log',
    sql: `
      CREATE TABLE audit_witnessed (
        size INTEGER PRIMARY KEY, -- checkpoint sizes the centre acknowledged
        acknowledged_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: "stored audit tree and cosignatures; the centre checkpoints this relay cosigned; kiosks' witness state",
    sql: `${AUDIT_TREE_SQL}
      CREATE TABLE cosigned_checkpoints (
        origin TEXT NOT NULL,
        size INTEGER NOT NULL,
        note TEXT NOT NULL, -- the checkpoint as the log signed it, with this relay's cosignature
        cosigned_at TEXT NOT NULL,
        PRIMARY KEY (origin, size)
      ) STRICT;
      ${appendOnly('cosigned_checkpoints', 'cosigned checkpoints are append-only')}
      ALTER TABLE kiosks ADD COLUMN witnessed_at TEXT;    -- when the relay last accepted the kiosk's checkpoint
      ALTER TABLE kiosks ADD COLUMN witness_failure TEXT; -- code of the last refused offer; cleared by the next accepted one
    `,
  },
  {
    version: 7,
    name: 'the reconciliations the operator submitted and the confirmations the centre agreed',
    sql: `
      CREATE TABLE settlement_submissions (
        month TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        records INTEGER NOT NULL,
        documents INTEGER NOT NULL,
        fees_yen INTEGER NOT NULL,
        PRIMARY KEY (month, submitted_at)
      ) STRICT;
      ${appendOnly('settlement_submissions', 'submissions are append-only')}
      CREATE TABLE month_confirmations (
        month TEXT PRIMARY KEY,
        submitted_at TEXT NOT NULL,
        confirmed_at TEXT NOT NULL, -- as the centre answered
        records INTEGER NOT NULL,
        documents INTEGER NOT NULL,
        fees_yen INTEGER NOT NULL
      ) STRICT;
      ${appendOnly('month_confirmations', 'a confirmed month cannot be changed')}
    `,
  },
  {
    version: 8,
    name: 'certificates of decommissioned kiosks, refused at every handshake (C§9-2)',
    sql: `
      CREATE TABLE revoked_certificates (
        fingerprint256 TEXT PRIMARY KEY, -- as TLS reports it: AA:BB:…
        serial_number TEXT NOT NULL,
        kiosk_id TEXT NOT NULL,
        final_size INTEGER NOT NULL,     -- the kiosk's audit log size witnessed last, ending with kiosk.decommissioned
        revoked_at TEXT NOT NULL
      ) STRICT;
      ${appendOnly('revoked_certificates', 'a revocation cannot be undone')}
    `,
  },
  {
    version: 9,
    name: 'kiosk faults, kiosk outages and the alert delivery queue (S4-7, S4-8; docs/alerts.md)',
    sql: `
      CREATE TABLE faults (
        fault_id TEXT PRIMARY KEY,   -- chosen by the kiosk: the same fault sent twice is one row
        kiosk_id TEXT NOT NULL,
        store_id TEXT NOT NULL,
        device TEXT NOT NULL,
        code TEXT NOT NULL,
        request_id TEXT,             -- the transaction it interrupted, a pseudonymous id
        occurred_at TEXT NOT NULL,   -- at the kiosk
        received_at TEXT NOT NULL,
        alerts_queued_at TEXT,       -- when its deliveries went into alert_deliveries
        cleared_at TEXT              -- a technician cleared it (relay clear-faults); open until then
      ) STRICT;
      CREATE INDEX faults_open ON faults (kiosk_id) WHERE cleared_at IS NULL;
      CREATE INDEX faults_unqueued ON faults (received_at) WHERE alerts_queued_at IS NULL;
      CREATE TABLE kiosk_outages (
        kiosk_id TEXT NOT NULL,
        silent_since TEXT NOT NULL,  -- the last contact before the silence: names the outage
        raised_at TEXT NOT NULL,
        recovered_at TEXT,
        PRIMARY KEY (kiosk_id, silent_since)
      ) STRICT;
      CREATE TABLE alert_deliveries (
        alert_id TEXT NOT NULL,
        target TEXT NOT NULL CHECK (target IN ('register', 'maintenance')),
        store_id TEXT NOT NULL,      -- picks the store's register endpoint at send time
        kiosk_id TEXT NOT NULL,
        body TEXT NOT NULL,          -- the alert JSON (docs/alerts.md): ids, codes and times only
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        delivered_at TEXT,
        failed_at TEXT,
        PRIMARY KEY (alert_id, target)
      ) STRICT;
      CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
      ALTER TABLE kiosks ADD COLUMN witness_failures INTEGER NOT NULL DEFAULT 0; -- offers refused, counted
    `,
  },
  {
    version: 10,
    name: "the operator's own maintenance windows and stops, announced to its kiosks once the centre had them (Spec§7-4)",
    sql: `
${OPERATOR_NOTICES_SQL}
    `,
  },
  {
    version: 11,
    name: "the operator's accident reports as the centre received them (C§15)",
    sql: `
${INCIDENT_REPORTS_SQL}
    `,
  },
  {
    version: 12,
    name: 'accident reports sent to the centre and not yet acknowledged',
    sql: `
      -- Kept before a report is sent and removed once the centre has it (cmd/relay.ts, relay
      -- incident): an answer lost on the way leaves the report here, to be sent again as it was,
      -- the same id, number and words, which the centre takes as a duplicate if it had it.
      CREATE TABLE incident_outbox (
        incident_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        report TEXT NOT NULL,        -- JSON IncidentReport: ids, codes, times and the operator's summary
        created_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, sequence)
      ) STRICT;
    `,
  },
];

export const KIOSK_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'transactions and completion-notice outbox',
    sql: `
      CREATE TABLE transactions (
        request_id TEXT PRIMARY KEY,
        issued_at TEXT NOT NULL,
        municipality_code TEXT NOT NULL,
        certificate_type TEXT NOT NULL,
        copies INTEGER NOT NULL CHECK (copies >= 0),
        fee_yen INTEGER NOT NULL CHECK (fee_yen >= 0),
        outcome TEXT NOT NULL CHECK (outcome IN ('issued', 'refunded'))
      ) STRICT;
      CREATE TABLE outbox (
        issuance_id TEXT PRIMARY KEY,
        notice TEXT NOT NULL, -- JSON CompletionNotice: ids, codes and counts only, no personal data
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        acknowledged_at TEXT
      ) STRICT;
      CREATE INDEX outbox_pending ON outbox (acknowledged_at, created_at);
    `,
  },
  {
    version: 2,
    name: 'store business day closes',
    sql: `
      CREATE TABLE day_closes (
        business_date TEXT PRIMARY KEY, -- JST YYYY-MM-DD
        cash_yen INTEGER NOT NULL CHECK (cash_yen >= 0),
        transactions INTEGER NOT NULL CHECK (transactions >= 0),
        documents INTEGER NOT NULL CHECK (documents >= 0),
        closed_at TEXT NOT NULL,
        acknowledged_at TEXT
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'audit log and what the relay has witnessed of it',
    sql: `${AUDIT_LOG_SQL}
      CREATE TABLE audit_witnessed (
        size INTEGER PRIMARY KEY, -- checkpoint sizes the relay acknowledged
        acknowledged_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'the cash the cash unit kept for each transaction',
    sql: `ALTER TABLE transactions ADD COLUMN cash_kept_yen INTEGER NOT NULL DEFAULT 0 CHECK (cash_kept_yen >= 0);`,
  },
  {
    version: 5,
    name: 'maintenance password (slow salted hash) and its lockout',
    sql: `
      CREATE TABLE maintenance_credential (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        password_hash TEXT NOT NULL, -- scrypt$N$r$p$salt$hash, never the password
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0,
        changed_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 6,
    name: 'notices the centre refused for good leave the retry queue',
    sql: `ALTER TABLE outbox ADD COLUMN rejected_at TEXT; -- set when the centre answered 400/409: a person must look`,
  },
  { version: 7, name: 'stored audit tree and cosignatures', sql: AUDIT_TREE_SQL },
  {
    version: 8,
    name: 'notices refused for a confirmed month go back to the queue: the centre now settles them as adjustments',
    sql: `UPDATE outbox SET rejected_at = NULL WHERE rejected_at IS NOT NULL AND last_error = 'month.confirmed';`,
  },
  {
    version: 9,
    name: 'device faults waiting for the relay (S4-7; docs/alerts.md)',
    sql: `
      CREATE TABLE fault_outbox (
        fault_id TEXT PRIMARY KEY,
        report TEXT NOT NULL,        -- JSON FaultReport: ids, codes and a time, no personal data
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        acknowledged_at TEXT,
        rejected_at TEXT
      ) STRICT;
    `,
  },
  {
    version: 10,
    name: 'watched conditions reported failing (docs/alerts.md)',
    sql: `
      -- A low disk or a clock off the relay's, reported once and remembered until seen cleared, so
      -- a restart or a technician command does not report it again (core/alerts.ts conditionWatch).
      CREATE TABLE failing_conditions (
        code TEXT PRIMARY KEY,
        since TEXT NOT NULL
      ) STRICT;
    `,
  },
];

/** The reference back end's own store (cmd/municipality-serve.ts): the inquiries J-LIS passed on. */
export const MUNICIPALITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inquiries passed on by J-LIS, and how the municipality dealt with them (C§16, Spec§10)',
    sql: `
      CREATE TABLE inquiries (
        inquiry_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,   -- pseudonymous: the municipality finds the resident in its own records
        summary TEXT NOT NULL,      -- the operator's words, as J-LIS passed them on
        received_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('forwarded', 'answered', 'closed')),
        answer TEXT,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
];
