import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SessionStore } from '../stores/session-store.js';
import type { Locker } from '../stores/locker.js';
import type { CursorStore } from './cursor-store.js';
import type { EventBus } from './event-bus.js';
import { MemoryLocker } from '../stores/memory-locker.js';
import { EventRelay } from './event-relay.js';
import { InProcessEventBus } from './in-process-bus.js';
import { MemoryCursorStore } from './memory-cursor-store.js';
import { outboxTail } from '../services/scan-feed.js';
import { RabbitMqBus } from './rabbitmq-bus.js';
import { WebhookBus, webhookRelayName } from './webhook-bus.js';

/** The relays this process runs, and how to stop them. */
export interface RunningRelays {
  readonly relays: readonly EventRelay[];
  /** Every event, for listeners in this process (`subscribe`). */
  readonly local: InProcessEventBus;
  /** Stops every relay, then closes its bus. */
  stop(): Promise<void>;
}

/**
 * Starts one relay per configured destination: one per webhook URL (a receiver that is down
 * holds back no other) and one for RabbitMQ. Each publishes the outbox after its own cursor;
 * with several instances, the shared locker lets one instance run each relay at a time.
 */
export function startRelays(deps: {
  config: Pick<Config, 'events'>;
  sessions: SessionStore;
  locker: Locker;
  cursors: CursorStore;
  /** Further destinations provided by the backends (the Redis stream). */
  eventBuses?: readonly { name: string; bus: EventBus }[];
  log: Logger;
}): RunningRelays {
  const { config, sessions, cursors, log } = deps;
  const started: { relay: EventRelay; bus: EventBus }[] = [];
  const run = (name: string, bus: EventBus, locker = deps.locker) => {
    const relay = new EventRelay({ name, sessions, bus, cursors, locker, log });
    relay.start();
    started.push({ relay, bus });
  };
  // Listeners in this process get what happens from now on: a cursor and a lock of this
  // process only, starting at the end of the outbox.
  const local = new InProcessEventBus();
  const localCursor = new MemoryCursorStore();
  const localRelay = new EventRelay({
    name: 'in-process',
    sessions,
    bus: local,
    cursors: localCursor,
    locker: new MemoryLocker(),
    log,
  });
  const localStart = (async () => {
    const tail = await outboxTail(sessions, 1);
    if (tail !== undefined) await localCursor.set('in-process', tail);
    localRelay.start();
  })().catch((err: unknown) => log.error({ err }, 'in-process events failed to start'));
  started.push({ relay: localRelay, bus: local });
  for (const endpoint of config.events.webhooks) {
    const bus = new WebhookBus({
      endpoints: [endpoint],
      log,
      timeoutMs: config.events.webhookTimeoutMs,
      giveUpAfterMs: config.events.webhookGiveUpAfterMs,
    });
    run(webhookRelayName(endpoint.url), bus);
  }
  const { rabbitmq } = config.events;
  if (rabbitmq) run('rabbitmq', new RabbitMqBus({ ...rabbitmq, log }));
  for (const { name, bus } of deps.eventBuses ?? []) run(name, bus);
  if (started.length > 0) log.info({ relays: started.length }, 'event relays started');
  return {
    local,
    relays: started.map((s) => s.relay),
    async stop() {
      await localStart;
      await Promise.all(started.map((s) => s.relay.stop()));
      await Promise.all(started.map((s) => s.bus.close()));
      await cursors.close();
    },
  };
}
