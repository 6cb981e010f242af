import type { DataChannel } from 'node-datachannel';

/**
 * node-datachannel 0.33 keeps every DataChannel wrapper in a native registry until its "closed" callback has
 * run, but its destructor does not leave that registry: a wrapper garbage-collected before it closed leaves a
 * dangling pointer that crashes the next global cleanup. So every channel gets its closed callback at once,
 * and stays referenced here until that callback has run (the native clean-up runs right after it).
 */
const live = new Set<DataChannel>();
const closedHandlers = new WeakMap<DataChannel, Set<() => void>>();

/** Registers a channel (idempotent); `onClosed` runs when it closes. */
export function adoptChannel(dc: DataChannel, onClosed?: () => void): void {
  let handlers = closedHandlers.get(dc);
  if (!handlers) {
    handlers = new Set();
    closedHandlers.set(dc, handlers);
    live.add(dc);
    const own = handlers;
    dc.onClosed(() => {
      for (const h of own) {
        try {
          h();
        } catch {
          // a handler's failure must not keep the channel registered
        }
      }
      setImmediate(() => live.delete(dc));
    });
  }
  if (onClosed) handlers.add(onClosed);
}

/** Channels not closed yet (diagnostics). */
export function liveChannelCount(): number {
  return live.size;
}
