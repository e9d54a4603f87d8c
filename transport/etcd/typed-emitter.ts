/**
 * A small typed event emitter. A listener that throws is reported through
 * `onListenerError` (default: ignored) and never breaks the emitter or the
 * loop that emitted: coordination loops must keep running.
 */

/** Event name -> listener argument tuple. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

type Listener = (...args: unknown[]) => void;

export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<Listener>>();

  constructor(
    private readonly onListenerError: (event: keyof E, err: unknown) => void = () => {},
  ) {}

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as unknown as Listener);
    return this;
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    this.listeners.get(event)?.delete(listener as unknown as Listener);
    return this;
  }

  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const wrapper = (...args: E[K]) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        try {
          this.onListenerError(event, err);
        } catch {
          // nothing more to do
        }
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
