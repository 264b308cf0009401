/**
 * One database read shared by the callers of the same event-loop turn: the
 * first caller schedules the read (setImmediate), callers until it is sent
 * join it, callers after it was sent get the next one. Every caller thus sees
 * a read that began after it asked — never an older answer — while N
 * dashboards polling at once cost one query, not N.
 */
export class CoalescedRead<T> {
  private next: Promise<T> | null = null;

  constructor(private readonly load: () => Promise<T>) {}

  read(): Promise<T> {
    this.next ??= new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        this.next = null; // from now on, callers wait for a read that starts after them
        this.load().then(resolve, reject);
      });
    });
    return this.next;
  }
}
