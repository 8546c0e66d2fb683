/**
 * Values kept for the most recently used texts, by number and by the texts' total length: what a client's text
 * decides (a parsed GraphQL document, graphql/directExecutor.ts and yoga's parse cache in graphql/yoga.ts) is kept by
 * its size as well, since a syntax tree is 25 to 250 times its text.
 */
import { LRUCache } from "lru-cache";

export function keptByTextLength<V extends NonNullable<unknown>>(max: number, maxTextLength: number, ttl?: number) {
  return new LRUCache<string, V>({
    max,
    maxSize: maxTextLength,
    sizeCalculation: (_, text) => Math.max(1, text.length),
    ...(ttl === undefined ? {} : { ttl }),
  });
}
