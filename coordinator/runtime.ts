/**
 * How the coordinator's Node.js process is started. V8 otherwise lets the heap grow to several hundred MiB under
 * query load before collecting (the live heap stays near 50 MiB); these limits keep peak memory under the 300 MiB
 * goal at a small cost in throughput (`npm run bench`, GraphQL part). `npm run coordinator` passes the same
 * flags; a test keeps the two in step.
 */
export const COORDINATOR_NODE_FLAGS = ["--max-semi-space-size=32", "--max-old-space-size=160"];
