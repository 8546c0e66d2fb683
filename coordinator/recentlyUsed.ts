/**
 * A function's results for the `capacity` keys most recently asked, computed once each: prepared SQLite statements
 * (db/sqlReader.ts), whose texts the coordinator writes itself. A Map keeps insertion order, so the most recently
 * used key is moved last and the first is the one to drop. (What a client's text decides, a parsed GraphQL document,
 * is kept by its size as well: graphql/yoga.ts.)
 */
export function keptForRecentKeys<K, V>(capacity: number, compute: (key: K) => V): (key: K) => V {
  const kept = new Map<K, V>();
  return (key) => {
    let value: V;
    if (kept.has(key)) {
      value = kept.get(key)!;
      kept.delete(key);
    } else {
      value = compute(key);
      if (kept.size >= capacity) kept.delete(kept.keys().next().value!);
    }
    kept.set(key, value);
    return value;
  };
}
