// Which PostgreSQL client the centre's store speaks through (docs/postgres.md, "Which client"):
// CPU and wall time per statement, on a throw-away server over its unix socket (test/postgres.ts).
// node-postgres with and without a named (prepared) statement and Bun's built-in SQL, each called
// directly; then the store's own bridge (drivers/store/postgres-database.ts: a worker thread and a
// synchronous wait), which is what the centre pays. CPU is the whole process's (process.cpuUsage:
// both threads), the server's is not counted. Runs under Node, then again under Bun.
//
// `npm run bench -- postgres-clients`. PG_BENCH_STATEMENTS=N statements per measurement (default 3000).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { openPostgresDatabase } from '../drivers/store/postgres-database.ts';
import { startPostgres } from '../test/postgres.ts';

const STATEMENTS = Number(process.env.PG_BENCH_STATEMENTS ?? 3000);
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`;

async function measure(name: string, work: () => unknown): Promise<void> {
  for (let at = 0; at < Math.min(300, STATEMENTS); at += 1) await work();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let at = 0; at < STATEMENTS; at += 1) await work();
  const wallUs = ((performance.now() - started) * 1000) / STATEMENTS;
  const used = process.cpuUsage(cpu);
  process.stdout.write(`| ${runtime} | ${name} | ${wallUs.toFixed(0)} | ${((used.user + used.system) / STATEMENTS).toFixed(0)} |\n`);
}

const server = await startPostgres();
try {
  const url = server.createDatabase('clients');
  if (!process.versions.bun) process.stdout.write('| runtime | client | wall µs/statement | CPU µs/statement |\n|---|---|---|---|\n');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await measure('node-postgres, unnamed', () => client.query({ text: 'SELECT $1::int AS one', values: [1] }));
  await measure('node-postgres, prepared once', () => client.query({ name: 'one', text: 'SELECT $1::int AS one', values: [1] }));
  await client.end();
  if (process.versions.bun) {
    const { SQL } = await import('bun');
    const sql = new SQL({ url, max: 1 });
    await measure("Bun's SQL", () => sql.unsafe('SELECT $1::int AS one', [1]));
    await sql.close();
  }
  const store = openPostgresDatabase(url);
  await measure('the store (worker thread + synchronous wait)', () => store.get('SELECT :one::int AS one', { one: 1 }));
  store.close();
} finally {
  server.stop();
}
if (!process.versions.bun) {
  const bun = path.resolve(import.meta.dirname, '../node_modules/.bin/bun');
  process.exitCode = spawnSync(bun, [import.meta.filename], { stdio: 'inherit' }).status ?? 1;
}
