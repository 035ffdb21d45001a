// A request's deadline: one timer, and the step of the request now waiting (taking a connection,
// the handshake, the answer) hears when it passes. It stands in for an AbortController with its
// signal, whose event listeners, added and removed for every step, were about a third of the
// Bun client's bookkeeping per request at the relay (docs/runtime-facts.md, "TLS and HTTP").

export class Deadline {
  private expired = false;
  private listener: (() => void) | undefined = undefined;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(milliseconds: number) {
    this.timer = setTimeout(() => {
      this.expired = true;
      const listener = this.listener;
      this.listener = undefined;
      listener?.();
    }, milliseconds);
  }

  get passed(): boolean {
    return this.expired;
  }

  /**
   * `listener` is called once if the deadline passes while it is set; undefined stops listening.
   * One at a time: a request's steps follow each other, so a new one replaces the last.
   */
  whenPassed(listener: (() => void) | undefined): void {
    this.listener = listener;
  }

  /** The request is over: the timer goes, and nobody is told of the deadline any more. */
  clear(): void {
    clearTimeout(this.timer);
    this.listener = undefined;
  }
}
