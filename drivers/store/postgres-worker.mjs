// The thread that talks to PostgreSQL for drivers/store/postgres-database.ts: the store's port is
// synchronous (as SQLite is), node-postgres is not, so the calling thread posts one request and
// sleeps on a shared flag until this thread has posted the answer (docs/postgres.md, "The bridge").
//
// Under Bun (the binary) it speaks through Bun's own SQL client, under Node through node-postgres:
// whichever costs the least CPU per statement on each runtime (docs/postgres.md, "Which client").
//
// Plain JavaScript, the one file of the code base that is: Node 20 runs no TypeScript in a worker
// without a loader (tsx), and loading one there costs ~250 ms per connection. The messages are
// typed in postgres-database.ts (PostgresRequest, PostgresAnswer); this file follows them.

import { workerData } from 'node:worker_threads';

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The SQLSTATE of a server error: node-postgres calls it `code`, Bun's SQL `errno`. */
function sqlState(error) {
  if (typeof error?.errno === 'string') return error.errno;
  return typeof error?.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) ? error.code : '';
}

/** The connection is gone (server down, restarted, unreachable), not the statement refused. */
function isConnectionLoss(error) {
  const code = typeof error?.code === 'string' ? error.code : '';
  const message = typeof error?.message === 'string' ? error.message : '';
  const state = sqlState(error);
  // SQLSTATE 08 connection exception, 57P01-57P03 shutdown / cannot connect now; Bun's own codes.
  return (
    SOCKET_CODES.has(code) ||
    /^ERR_POSTGRES_(CONNECTION|IDLE_TIMEOUT|LIFETIME_TIMEOUT|CONNECTION_TIMEOUT)/.test(code) ||
    /^08/.test(state) ||
    /^57P0[123]$/.test(state) ||
    /Connection terminated|Connection closed|not queryable|timeout expired|ECONNREFUSED|ENOENT/i.test(message)
  );
}

/** What an error may say: the message and SQLSTATE, never `detail` (it quotes the row's values). */
function failure(error, lost = false) {
  const answer = { ok: false, message: typeof error?.message === 'string' ? error.message : String(error), connectionLost: lost || isConnectionLoss(error) };
  const state = sqlState(error);
  if (state) answer.code = state;
  return answer;
}

const done = { ok: true, rows: [], rowCount: 0 };

/**
 * node-postgres (Node): bigint and numeric as numbers, as SQLite gives them (every id, yen amount
 * and millisecond is far below 2^53); each statement text prepared once per connection.
 */
async function nodePostgres(connection, onLost) {
  const { default: pg } = await import('pg');
  pg.types.setTypeParser(pg.types.builtins.INT8, Number);
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);
  const client = new pg.Client(connection);
  client.on('error', onLost);
  const names = new Map();
  const valueForPg = (value) => {
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return typeof value === 'bigint' ? value.toString() : value;
  };
  await client.connect();
  return {
    async query(text, values) {
      let name = names.get(text);
      if (name === undefined) names.set(text, (name = `cvs${names.size + 1}`));
      const result = await client.query({ name, text, values: values.map(valueForPg) });
      return { ok: true, rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    exec: (text) => client.query(text),
    end: () => client.end(),
  };
}

/**
 * Bun's own SQL client (Bun, the binary): a third of node-postgres's CPU per statement (docs/postgres.md,
 * "Which client"). One connection (max 1): a transaction is this thread's statements in turn. bigint
 * comes as BigInt and is made a number; the dialect casts SUM to BIGINT, so no numeric reaches here.
 */
async function bunSql(connection) {
  const { SQL } = await import('bun');
  const sql = new SQL({ url: connection.connectionString, max: 1, bigint: true, prepare: true, onnotice: () => undefined, connection: { application_name: connection.application_name } });
  const numbers = (row) => {
    for (const key in row) if (typeof row[key] === 'bigint') row[key] = Number(row[key]);
    return row;
  };
  await sql.unsafe('SELECT 1');
  return {
    async query(text, values) {
      const result = await sql.unsafe(text, values);
      return { ok: true, rows: Array.from(result, numbers), rowCount: result.count ?? 0 };
    },
    exec: (text) => sql.unsafe(text),
    end: () => sql.close(),
  };
}

function serve(input) {
  // A connection the server dropped answers every later request with its error, until the calling
  // thread, outside any transaction, asks for a new one (`reconnect`).
  let lost;
  let client;
  const open = async () => {
    lost = undefined;
    const onLost = (error) => {
      lost = failure(error, true);
    };
    client = typeof Bun !== 'undefined' ? await bunSql(input.connection) : await nodePostgres(input.connection, onLost);
  };
  const answer = async (request) => {
    switch (request.kind) {
      case 'connect':
        await open();
        return done;
      case 'reconnect':
        client?.end().catch(() => undefined);
        await open();
        return done;
      case 'query':
        return client.query(request.text, request.values);
      case 'exec':
        await client.exec(request.text);
        return done;
      case 'close':
        await client?.end();
        return done;
      default:
        return { ok: false, message: `unknown request ${String(request.kind)}`, connectionLost: false };
    }
  };
  // A deferred statement (BEGIN, SAVEPOINT, RELEASE: the calling thread does not wait for them)
  // that failed: the next answered request gives its failure instead of its own result. The
  // client runs statements in the order they came, so it is known by then.
  let deferredFailure;
  input.port.on('message', (request) => {
    if (request.deferred) {
      if (lost) return;
      answer(request).then(
        () => undefined,
        (error) => void (deferredFailure ??= failure(error)),
      );
      return;
    }
    const reply = (result) => {
      const given = deferredFailure ?? result;
      deferredFailure = undefined;
      // The request's number: the calling thread takes only the answer to what it asked.
      input.port.postMessage({ ...given, id: request.id });
      Atomics.store(input.flag, 0, 1);
      Atomics.notify(input.flag, 0);
    };
    if (lost && request.kind !== 'reconnect' && request.kind !== 'close') return reply(lost);
    answer(request).then(reply, (error) => reply(failure(error, request.kind === 'connect' || request.kind === 'reconnect')));
  });
}

if (workerData?.port) serve(workerData);
