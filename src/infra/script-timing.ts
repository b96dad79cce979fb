import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import type { Histogram } from 'prom-client';

type ScriptFn = (...args: unknown[]) => Promise<unknown>;

/**
 * Times every Lua script defined on this client (defineCommand), by script name, request to reply.
 * Done once where the client is built, so the order and allocator call sites stay as they are.
 */
export function timeScripts(redis: Redis | Cluster, seconds: Histogram<'script'>): void {
  const target = redis as unknown as Record<string, ScriptFn>;
  const define = redis.defineCommand.bind(redis);
  redis.defineCommand = (name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }) => {
    define(name, definition);
    const call = target[name];
    target[name] = function timed(this: unknown, ...args: unknown[]) {
      // a pipeline (an explicit one, or ioredis's auto-pipeline) copies this function: queue the script there,
      // untimed; sent to the client instead it escaped the pipeline, and under auto-pipelining recursed for ever
      if (this !== redis && this !== undefined) return call.apply(this, args);
      const end = seconds.startTimer({ script: name });
      const reply = call.apply(redis, args);
      reply.then(() => end(), () => end());
      return reply;
    };
  };
}
