// The compiled binary starts with JavaScriptCore's tier-up thresholds scaled by 10
// (package.json "build", `--compile-jit-policy=10`), so that a command that runs once and exits
// does not spend its time compiling code it will never run again (bench/startup.bench.ts). A
// server runs the same code for hours: once it is up, it puts the normal policy back, in each
// thread that serves (Bun.unsafe.setJITPolicy works per thread). On Node this does nothing.

interface BunUnsafe {
  setJITPolicy?(scale: number): void;
}

export function useServingJitPolicy(): void {
  const unsafe = (globalThis as { Bun?: { unsafe?: BunUnsafe } }).Bun?.unsafe;
  unsafe?.setJITPolicy?.(1);
}
