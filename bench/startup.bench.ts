// Start-up of the compiled binary next to a hello-world compiled by the same Bun, measured in the
// same run: the median wall time of `--help`, `--version` and two commands' help, each run taken
// in turn with the others so that a busy machine slows all of them alike. The goal is `--help`
// and `--version` within 2× of the hello-world; each says whether it met it. The bench fails when
// a run exits other than 0 or prints nothing, not on the goal: the figures move with the machine's
// load by more than the margin. Assumes dist/cvs-issue was just built (npm run bench does that).
//
//   node --import tsx bench/startup.bench.ts [--runs N]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const GOAL_RATIO = 2;
const WARM_UP_RUNS = 3;
const runsIndex = process.argv.indexOf('--runs');
const RUNS = runsIndex >= 0 ? Number(process.argv[runsIndex + 1]) : 21;
const root = path.resolve(import.meta.dirname, '..');
const binary = path.join(root, 'dist', 'cvs-issue');
const bun = path.join(root, 'node_modules', '.bin', 'bun');

interface Case {
  name: string;
  command: string;
  args: string[];
  /** Held to the goal against the hello-world. */
  goal: boolean;
}

interface Measured extends Case {
  medianMs: number;
  minMs: number;
  failures: string[];
}

/** The flags of package.json's "build" (bytecode, no .env or bunfig.toml read at start, …), for a hello-world built alike. */
function buildFlags(): string[] {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  return scripts.build!.split(/\s+/).filter((word) => word.startsWith('--') && word !== '--compile' && word !== '--outfile');
}

function compileHelloWorld(directory: string, name: string, flags: string[]): string {
  const source = path.join(directory, 'hello.ts');
  const executable = path.join(directory, name);
  fs.writeFileSync(source, "console.log('hello, world');\n");
  const built = spawnSync(bun, ['build', '--compile', ...flags, source, '--outfile', executable], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`bun build of the hello-world failed: ${built.stderr}`);
  return executable;
}

function runOnce(entry: Case, cwd: string): { ms: number; failure?: string } {
  const startedMs = performance.now();
  const result = spawnSync(entry.command, entry.args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', TZ: 'UTC', NO_COLOR: '1' } });
  const ms = performance.now() - startedMs;
  if (result.status === 0 && result.stdout.length > 0) return { ms };
  return { ms, failure: `exit ${result.status ?? result.signal}, ${result.stdout.length} bytes out: ${result.stderr.toString().slice(0, 200)}` };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Runs in an empty folder, so no .env or bunfig.toml there changes what a default build does. */
function measure(cases: Case[], cwd: string): Measured[] {
  const times = cases.map((): number[] => []);
  const failures = cases.map((): string[] => []);
  for (let run = 0; run < WARM_UP_RUNS + RUNS; run += 1) {
    cases.forEach((entry, index) => {
      const { ms, failure } = runOnce(entry, cwd);
      if (failure) failures[index]!.push(failure);
      if (run >= WARM_UP_RUNS) times[index]!.push(ms);
    });
  }
  return cases.map((entry, index) => ({ ...entry, medianMs: median(times[index]!), minMs: Math.min(...times[index]!), failures: failures[index]! }));
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-bench-startup-'));
try {
  if (!fs.existsSync(binary)) throw new Error('dist/cvs-issue is missing: npm run build');
  const empty = path.join(work, 'cwd');
  fs.mkdirSync(empty);
  const measured = measure([
    { name: 'hello-world (bun build --compile)', command: compileHelloWorld(work, 'hello', []), args: [], goal: false },
    { name: 'hello-world, built as npm run build', command: compileHelloWorld(work, 'hello-alike', buildFlags()), args: [], goal: false },
    { name: 'cvs-issue --help', command: binary, args: ['--help'], goal: true },
    { name: 'cvs-issue --version', command: binary, args: ['--version'], goal: true },
    { name: 'cvs-issue audit-log --help', command: binary, args: ['audit-log', '--help'], goal: false },
    { name: 'cvs-issue kiosk --help', command: binary, args: ['kiosk', '--help'], goal: false },
  ], empty);
  // The goal is the issue's: against a hello-world built with the defaults. The second column is
  // against one built with the binary's own flags, which start it faster: the stricter comparison.
  const [baseline, alike] = [measured[0]!, measured[1]!];
  console.log(`median of ${RUNS} runs each (after ${WARM_UP_RUNS} warm-up runs), taken in turn; Bun ${spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
  console.log(`${''.padEnd(38)} median  × hello  × hello built alike  fastest`);
  for (const entry of measured) {
    const ratio = entry.medianMs / baseline.medianMs;
    const verdict = entry.goal ? (ratio <= GOAL_RATIO ? `goal ≤ ${GOAL_RATIO}×: met` : `goal ≤ ${GOAL_RATIO}×: MISSED`) : '';
    console.log(
      `${entry.name.padEnd(38)} ${entry.medianMs.toFixed(1).padStart(5)} ms ${ratio.toFixed(2).padStart(6)}× ${(entry.medianMs / alike.medianMs).toFixed(2).padStart(14)}×   ${entry.minMs.toFixed(1).padStart(5)} ms  ${verdict}`,
    );
    for (const failure of new Set(entry.failures)) console.log(`  failed: ${failure}`);
  }
  if (measured.some((entry) => entry.failures.length > 0)) process.exitCode = 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
