// Virtual time for the simulation (docs/simulation.md): a queue of events ordered by time, then by
// the order they were scheduled, so the same schedule always runs in the same order. Nothing here
// waits for real time; the runner pops one event, runs it, and lets its consequences settle.

export interface ScheduledEvent {
  atMs: number;
  sequence: number;
  label: string;
  run: () => void;
  cancelled: boolean;
}

export class Scheduler {
  private readonly heap: ScheduledEvent[] = [];
  private sequence = 0;
  private currentMs: number;

  constructor(startMs: number) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  size(): number {
    return this.heap.length;
  }

  /** Schedules `run` after `delayMs` (never in the past); the label goes into the trace when it runs. */
  after(delayMs: number, label: string, run: () => void): ScheduledEvent {
    const event: ScheduledEvent = { atMs: this.currentMs + Math.max(0, Math.round(delayMs)), sequence: this.sequence++, label, run, cancelled: false };
    this.push(event);
    return event;
  }

  cancel(event: ScheduledEvent | undefined): void {
    if (event) event.cancelled = true;
  }

  /** The next event that is not cancelled, with the clock moved to its time; undefined when none is left. */
  next(): ScheduledEvent | undefined {
    for (;;) {
      const event = this.pop();
      if (!event) return undefined;
      if (event.cancelled) continue;
      this.currentMs = event.atMs;
      return event;
    }
  }

  private before(left: ScheduledEvent, right: ScheduledEvent): boolean {
    return left.atMs < right.atMs || (left.atMs === right.atMs && left.sequence < right.sequence);
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap;
    heap.push(event);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && this.before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && this.before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}
