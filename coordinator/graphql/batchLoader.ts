/**
 * Collects the keys that resolvers ask for while one level of a query resolves, and loads them with one database
 * query: a page of 100 jobs with their histories is two queries, not 101. One loader lives per request, so
 * nothing is shared or kept between requests.
 */
export function createBatchLoader<K, V>(loadMany: (keys: K[]) => Promise<Map<K, V>>, missing: V) {
  let queue: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    loadMany([...new Set(batch.map((b) => b.key))]).then(
      (found) => batch.forEach((b) => b.resolve(found.get(b.key) ?? missing)),
      (e) => batch.forEach((b) => b.reject(e)),
    );
  };
  return (key: K): Promise<V> =>
    new Promise((resolve, reject) => {
      // Resolvers of sibling list items run in the same tick: wait for it to end before loading.
      if (queue.length === 0) process.nextTick(flush);
      queue.push({ key, resolve, reject });
    });
}
