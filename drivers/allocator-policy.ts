// The servers' allocator setting (docs/runtime-facts.md, "The allocator under load"). The Bun
// binary allocates through mimalloc, which by default hands memory that has been free for 100 ms
// back to the kernel (madvise) from a thread of its own; under load the same pages are wanted again
// at once and fault back in, zeroed. A server keeps them: its memory stays at what its peak needed,
// and it spends no CPU returning and re-faulting it. mimalloc reads its options from the
// environment when the process starts, before any of our code runs, so the server process puts
// the option in its environment and executes itself again (execve: same process id, same open
// standard streams, same arguments). An operator who sets the option chooses for themselves.
// On Node (tsx) this does nothing: Node allocates with the C library's malloc.

/** mimalloc's option (its docs: "MIMALLOC_PURGE_DELAY"): -1 never gives freed memory back. */
export const PURGE_DELAY_VARIABLE = 'MIMALLOC_PURGE_DELAY';
const SERVING_PURGE_DELAY = '-1';

/** Subcommands that run until stopped, serving requests. */
const SERVING_COMMANDS = [
  ['center', 'serve'],
  ['relay', 'serve'],
];

interface ExecProcess {
  execPath: string;
  env: Record<string, string | undefined>;
  execve?(file: string, args: string[], env: Record<string, string | undefined>): never;
}

/** Whether these arguments (after the program's) start a server: `center serve`, `relay serve`. */
export function startsServer(argv: readonly string[]): boolean {
  const words = argv.filter((argument) => !argument.startsWith('-'));
  return SERVING_COMMANDS.some(([command, sub]) => words[0] === command && words[1] === sub);
}

/**
 * In the Bun binary, for a server whose environment does not set the purge delay yet: runs this
 * binary again with it set, and does not return. Otherwise returns and the command runs as it is.
 */
export function useServingAllocator(argv: readonly string[], running: ExecProcess = process as unknown as ExecProcess, compiled = isCompiledBinary()): void {
  if (!compiled || typeof running.execve !== 'function') return;
  if (running.env[PURGE_DELAY_VARIABLE] !== undefined || !startsServer(argv)) return;
  try {
    running.execve(running.execPath, [running.execPath, ...argv], { ...running.env, [PURGE_DELAY_VARIABLE]: SERVING_PURGE_DELAY });
  } catch {
    // Not replaced (the binary moved, a seccomp policy): the server runs with mimalloc's default.
  }
}

/** The compiled binary, whose own file is the program: `bun cvs-issue.ts` would need the script again. */
function isCompiledBinary(): boolean {
  return typeof Bun !== 'undefined' && Bun.main.startsWith('/$bunfs/');
}
