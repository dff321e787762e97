import { RedisScript } from '../stores/redis-script.js';

/** One stream entry as RedisStreamConsumer reads it. */
export interface Entry {
  id: string;
  /** Null when the entry was deleted (trimmed) while pending. */
  fields: Record<string, string> | null;
}

/**
 * KEYS[1] = stream, KEYS[2] = dead-letter stream; ARGV[1] = group, ARGV[2] = consumer,
 * ARGV[3] = entry id, then the dead letter's fields. Moves the entry only while it is still
 * pending for this consumer: one that another consumer claimed meanwhile is theirs to finish.
 */
export const DEAD_LETTER = new RedisScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return 1
`);

/** KEYS[1] = stream; ARGV[1] = group, then entry ids. Returns each one's delivery count (0: none). */
export const DELIVERY_COUNTS = new RedisScript(`
local out = {}
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  out[#out + 1] = #p == 0 and 0 or p[1][4]
end
return out
`);

/** `[id, [field, value, ...] | nil]` as sent by Redis. */
export function parseEntries(raw: unknown): Entry[] {
  if (!Array.isArray(raw)) return [];
  // Redis 6.2's XAUTOCLAIM answers nil, without the id, for an entry deleted while pending.
  return raw.flatMap((item: unknown): Entry[] => {
    if (!Array.isArray(item)) return [];
    const [id, flat] = item as [string, string[] | null];
    if (!flat) return [{ id: String(id), fields: null }];
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    return [{ id: String(id), fields }];
  });
}

/** The entries of the one stream an XREADGROUP asked for (null, pairs, or a map by stream). */
export function readReplyEntries(reply: unknown): Entry[] {
  if (!reply || typeof reply !== 'object') return [];
  if (Array.isArray(reply)) return parseEntries((reply[0] as [string, unknown] | undefined)?.[1]);
  if (reply instanceof Map) return parseEntries([...reply.values()][0]);
  return parseEntries(Object.values(reply)[0]);
}
