// The store's SQL is written once, in SQLite's dialect; this turns it into PostgreSQL's
// (docs/postgres.md, "One dialect"). Queries: named (:name) and positional (?) parameters become
// $n, INSERT OR IGNORE / OR REPLACE become ON CONFLICT, camelCase aliases keep their case.
// Schema: column types, the append-only and month-lock triggers as PL/pgSQL, STRICT dropped.
// Anything it does not know how to carry is refused here, by name, never passed on half-translated.

import { AppError } from '../../core/errors.ts';
import type { SqlParams, SqlValue } from './database.ts';

export interface PostgresQuery {
  text: string;
  /** The parameter names in $n order ($1 is names[0]); positional parameters are numbered instead. */
  names: string[] | number;
}

/** Tables whose rows INSERT OR REPLACE rewrites, by their primary key (SQLite replaces on any key). */
const REPLACE_KEYS: Record<string, readonly string[]> = {
  municipalities: ['code'],
  residents: ['resident_id'],
  operators: ['operator_id'],
  resident_links: ['card_serial_hex'],
  meta: ['key'],
};

/** A piece of SQL text: code (translated), a quoted literal or identifier, or a comment (dropped). */
interface Piece {
  kind: 'code' | 'string' | 'identifier' | 'comment';
  text: string;
}

function pieces(sql: string): Piece[] {
  const out: Piece[] = [];
  let code = '';
  const flush = () => {
    if (code) out.push({ kind: 'code', text: code });
    code = '';
  };
  for (let at = 0; at < sql.length; ) {
    const char = sql[at]!;
    if (char === '-' && sql[at + 1] === '-') {
      const end = sql.indexOf('\n', at);
      flush();
      out.push({ kind: 'comment', text: sql.slice(at, end === -1 ? sql.length : end) });
      at = end === -1 ? sql.length : end;
    } else if (char === "'" || char === '"') {
      let end = at + 1;
      for (;;) {
        end = sql.indexOf(char, end);
        if (end === -1) throw new AppError('internal', 'store.sql_unterminated', `unterminated ${char === "'" ? 'string' : 'identifier'} in SQL`, sql.slice(at, at + 40));
        if (sql[end + 1] === char) end += 2;
        else break;
      }
      flush();
      out.push({ kind: char === "'" ? 'string' : 'identifier', text: sql.slice(at, end + 1) });
      at = end + 1;
    } else {
      code += char;
      at += 1;
    }
  }
  flush();
  return out;
}

const join = (list: Piece[]): string => list.map((piece) => piece.text).join('');

/** Applies `change` to the code between literals and comments. */
function mapCode(list: Piece[], change: (code: string) => string): Piece[] {
  return list.map((piece) => (piece.kind === 'code' ? { kind: 'code', text: change(piece.text) } : piece));
}

const queryCache = new Map<string, PostgresQuery>();

/** One statement with parameters, as the store writes it, in PostgreSQL's dialect. */
export function translateQuery(sql: string): PostgresQuery {
  const cached = queryCache.get(sql);
  if (cached) return cached;
  const names: string[] = [];
  let positional = 0;
  let list = pieces(sql).filter((piece) => piece.kind !== 'comment');
  list = mapCode(list, (code) =>
    code
      // PostgreSQL cannot type a parameter only tested for NULL (":operatorId IS NULL OR …"): the
      // store tests only text parameters so, and says so here.
      // SUM over BIGINT is NUMERIC in PostgreSQL; every sum here is of whole yen, copies or counts.
      .replace(/\bSUM\(([^()]*(?:\([^()]*\)[^()]*)*)\)/gi, 'CAST(SUM($1) AS BIGINT)')
      // instr(haystack, needle), over text or BLOB: position(needle IN haystack).
      .replace(/\binstr\(\s*([\w.]+)\s*,\s*(:?[\w.]+)\s*\)/gi, 'position($2 IN $1)')
      .replace(/(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)(\s+IS\s+(?:NOT\s+)?NULL\b)/gi, 'CAST(:$1 AS TEXT)$2')
      .replace(/(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g, (_whole, name: string) => {
        let index = names.indexOf(name);
        if (index === -1) index = names.push(name) - 1;
        return `$${index + 1}`;
      })
      .replace(/\?/g, () => `$${(positional += 1)}`)
      .replace(/\bAS\s+([a-z][A-Za-z0-9_]*[A-Z][A-Za-z0-9_]*)\b/g, 'AS "$1"'),
  );
  if (names.length > 0 && positional > 0) throw new AppError('internal', 'store.sql_mixed_parameters', 'SQL mixes named and positional parameters', sql.slice(0, 60));
  let text = join(list).trim().replace(/;$/, '');
  text = translateConflicts(text);
  const query: PostgresQuery = { text, names: positional > 0 ? positional : names };
  queryCache.set(sql, query);
  return query;
}

function translateConflicts(text: string): string {
  const ignore = /^INSERT\s+OR\s+IGNORE\s+INTO\b/i;
  if (ignore.test(text)) return `${text.replace(ignore, 'INSERT INTO')} ON CONFLICT DO NOTHING`;
  const replace = /^INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)/i.exec(text);
  if (replace) {
    const table = replace[1]!;
    const key = REPLACE_KEYS[table];
    if (!key) throw new AppError('internal', 'store.sql_replace_unknown', `INSERT OR REPLACE into ${table} has no known key for PostgreSQL`, table);
    const columns = replace[2]!.split(',').map((column) => column.trim());
    const updates = columns.filter((column) => !key.includes(column)).map((column) => `${column} = EXCLUDED.${column}`);
    const action = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';
    return `${text.replace(/^INSERT\s+OR\s+REPLACE\s+INTO/i, 'INSERT INTO')} ON CONFLICT (${key.join(', ')}) ${action}`;
  }
  if (/^INSERT\s+OR\b/i.test(text)) throw new AppError('internal', 'store.sql_conflict_unknown', 'an INSERT OR … clause PostgreSQL cannot carry', text.slice(0, 60));
  return text;
}

/** The values in $n order, from the parameters as the store passes them. */
export function bindValues(query: PostgresQuery, params: SqlParams | undefined): SqlValue[] {
  if (typeof query.names === 'number') {
    const values = Array.isArray(params) ? params : [];
    if (values.length !== query.names) throw new AppError('internal', 'store.sql_parameters', `SQL takes ${query.names} parameters, given ${values.length}`);
    return values;
  }
  if (query.names.length === 0) return [];
  if (params === undefined || Array.isArray(params)) throw new AppError('internal', 'store.sql_parameters', 'SQL takes named parameters, given none');
  return query.names.map((name) => {
    const value = params[name];
    // As bun:sqlite (strict) and better-sqlite3 do: a missing parameter is a bug, not a NULL.
    if (value === undefined) throw new AppError('internal', 'store.sql_parameters', `missing named parameter "${name}"`);
    return value;
  });
}

/** Schema statements (migrations) in PostgreSQL's dialect: one statement at a time. */
export function translateSchema(sql: string): string {
  return splitStatements(pieces(sql).filter((piece) => piece.kind !== 'comment'))
    .map(translateSchemaStatement)
    .filter((statement) => statement.length > 0)
    .join(';\n');
}

function splitStatements(list: Piece[]): Piece[][] {
  const statements: Piece[][] = [];
  let current: Piece[] = [];
  let triggerBody = false;
  for (const piece of list) {
    if (piece.kind !== 'code') {
      current.push(piece);
      continue;
    }
    // A trigger's body (BEGIN … END) has semicolons of its own.
    let text = '';
    for (const part of piece.text.split(/(;)/)) {
      if (part !== ';') {
        text += part;
        continue;
      }
      const sofar = join([...current, { kind: 'code', text }]);
      triggerBody = /^\s*CREATE\s+TRIGGER\b/i.test(sofar) && !/\bEND\s*$/i.test(sofar);
      if (triggerBody) {
        text += ';';
        continue;
      }
      current.push({ kind: 'code', text });
      statements.push(current);
      current = [];
      text = '';
    }
    if (text) current.push({ kind: 'code', text });
  }
  if (join(current).trim()) statements.push(current);
  return statements;
}

function translateSchemaStatement(list: Piece[]): string {
  const text = join(list).trim();
  if (text === '') return '';
  if (/^CREATE\s+TRIGGER\b/i.test(text)) return translateTrigger(text);
  if (/^(CREATE\s+TABLE|ALTER\s+TABLE)\b/i.test(text)) return join(mapCode(list, translateColumnTypes)).trim();
  if (/^(CREATE\s+(UNIQUE\s+)?INDEX|CREATE\s+VIEW|DROP\s+VIEW|DROP\s+INDEX)\b/i.test(text)) return text;
  if (/^(CREATE|DROP|ALTER)\b/i.test(text)) throw new AppError('internal', 'store.sql_schema_unknown', 'a schema statement PostgreSQL cannot carry', text.slice(0, 60));
  // Anything else (DELETE, UPDATE, INSERT …) is a query without parameters.
  const query = translateQuery(text);
  if (query.names !== 0 && (typeof query.names === 'number' || query.names.length > 0)) throw new AppError('internal', 'store.sql_parameters', 'exec takes no parameters', text.slice(0, 60));
  return query.text;
}

function translateColumnTypes(code: string): string {
  return code
    .replace(/\)\s*STRICT\s*,\s*WITHOUT\s+ROWID\s*$/i, ')')
    .replace(/\)\s*STRICT\s*$/i, ')')
    .replace(/\bINTEGER\s+PRIMARY\s+KEY\b/gi, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bBLOB\b/g, 'BYTEA')
    // Byte order, as SQLite compares text: ids, ISO times and months sort the same on both stores.
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}

const TRIGGER = /^CREATE\s+TRIGGER\s+(\w+)\s+BEFORE\s+(INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(\w+)\s+(?:WHEN\s+([\s\S]+?)\s+)?BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'((?:[^']|'')*)'\s*\)\s*;\s*END$/i;

/** SQLite's refusing triggers (RAISE(ABORT, …), optionally WHEN …) as a PL/pgSQL function and trigger. */
function translateTrigger(text: string): string {
  const match = TRIGGER.exec(text);
  if (!match) throw new AppError('internal', 'store.sql_trigger_unknown', 'a trigger PostgreSQL cannot carry', text.slice(0, 60));
  const [, name, event, table, when, message] = match as unknown as [string, string, string, string, string | undefined, string];
  const condition = when === undefined ? 'TRUE' : translateJstMonth(when);
  const row = /^DELETE$/i.test(event) ? 'OLD' : 'NEW';
  const statements = [
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $trigger$ BEGIN IF ${condition} THEN RAISE EXCEPTION '${message}' USING ERRCODE = 'restrict_violation'; END IF; RETURN ${row}; END $trigger$`,
    `CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  ];
  // TRUNCATE deletes without row triggers: an append-only table refuses it too.
  if (row === 'OLD' && when === undefined) statements.push(`CREATE TRIGGER ${name}_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${name}()`);
  return statements.join(';\n');
}

/** strftime('%Y-%m', X, '+9 hours'): the JST month of a UTC ISO time. */
function translateJstMonth(condition: string): string {
  const translated = condition.replace(/strftime\('%Y-%m',\s*([\w.]+),\s*'\+9 hours'\)/g, "to_char(($1)::timestamptz AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM')");
  if (/strftime|datetime\(|julianday/i.test(translated)) throw new AppError('internal', 'store.sql_function_unknown', 'a date function PostgreSQL cannot carry', condition.slice(0, 60));
  return translated;
}
