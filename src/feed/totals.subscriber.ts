import type { Deps } from '../deps';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a totals notification; anything else on the channel is ignored (and logged once in a while). */
export function parseTotalsMessage(message: string): { streamId: string; seq: number } | null {
  let m: unknown;
  try {
    m = JSON.parse(message);
  } catch {
    return null;
  }
  if (!m || typeof m !== 'object') return null;
  const { streamId, seq } = m as Record<string, unknown>;
  if (typeof streamId !== 'string' || !ID.test(streamId) || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return null;
  return { streamId, seq };
}

/**
 * One dedicated subscriber connection per process for the totals channel. ioredis re-subscribes after a
 * reconnect; messages published meanwhile are lost, so onResync asks for a fresh read of every stream.
 */
export function subscribeTotals(
  deps: Deps, channel: string, onChange: (streamId: string, seq: number) => void, onResync: () => void,
): { subscribed: Promise<void>; stop(): Promise<void> } {
  const sub = deps.redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  let bad = 0;
  let readyOnce = false;
  sub.on('error', (err) => deps.logger.debug({ err: err.message }, 'feed: subscriber connection error'));
  sub.on('ready', () => {
    if (readyOnce) {
      deps.logger.info('feed: subscriber reconnected, re-reading totals');
      onResync();
    }
    readyOnce = true;
  });
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const m = parseTotalsMessage(message);
    if (m) onChange(m.streamId, m.seq);
    else if (bad++ % 1000 === 0) deps.logger.warn({ channel, sample: message.slice(0, 200) }, 'feed: ignored a malformed totals message');
  });
  // an API started while Redis is away still serves HTTP: ioredis subscribes once it connects
  const subscribed = sub.subscribe(channel).then(() => undefined, (err) => deps.logger.warn({ err: err.message, channel }, 'feed: could not subscribe to totals'));
  return {
    subscribed,
    async stop() {
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
