/**
 * Publish/subscribe between the app's instances. Everything real-time (live
 * shows) goes through this interface, so running several instances is a
 * matter of another implementation (PostgreSQL LISTEN/NOTIFY, Redis pub/sub)
 * and nothing else.
 *
 * Messages are wake-up signals and small facts, not data to keep: whatever a
 * late or reconnecting client must see is in the database (the live event
 * log), so a message lost between instances delays an update, never loses it.
 * Keep them small and JSON-serialisable: NOTIFY payloads stop at 8000 bytes.
 */
export interface BroadcastMessage {
  type: string;
  [field: string]: unknown;
}

export interface Broadcaster {
  /** Delivers to every subscriber of the channel on every instance, this one included. */
  publish(channel: string, message: BroadcastMessage): Promise<void>;
  /** Returns the unsubscribe function. Handlers must not throw. */
  subscribe(channel: string, handler: (message: BroadcastMessage) => void): () => void;
}

/**
 * One process: a map of channels to handlers. Delivery is asynchronous (a
 * microtask later), like a network implementation, so a publisher never runs
 * subscribers inside its own call stack.
 */
export class InProcessBroadcaster implements Broadcaster {
  private readonly channels = new Map<string, Set<(message: BroadcastMessage) => void>>();

  async publish(channel: string, message: BroadcastMessage): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers || handlers.size === 0) return;
    // A copy, so a subscriber may unsubscribe (or subscribe another) while being called.
    const snapshot = [...handlers];
    const frozen = JSON.parse(JSON.stringify(message)) as BroadcastMessage;
    queueMicrotask(() => {
      for (const handler of snapshot) handler(frozen);
    });
  }

  subscribe(channel: string, handler: (message: BroadcastMessage) => void): () => void {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
    }
    handlers.add(handler);
    return () => {
      const set = this.channels.get(channel);
      if (!set) return;
      set.delete(handler);
      if (set.size === 0) this.channels.delete(channel);
    };
  }

  /** Channels with at least one subscriber (tests check that closed streams unsubscribe). */
  channelCount(): number {
    return this.channels.size;
  }
}
