/**
 * How the coordinator's Node.js process is started. V8 otherwise lets the heap grow to several hundred MiB under
 * query load before collecting (the live heap stays near 50 MiB); these limits keep peak memory under the 300 MiB
 * goal (`npm run bench`, GraphQL part). A young generation of 8 MiB semi-spaces rather than 32 collects more often
 * but each time less, and keeps the heap in the processor's cache: on the all-distinct workload (SQLite) it gave
 * 3,128 queries/s, p99 40.8 ms, peak 283 MiB, against 2,819/s, p99 48.7 ms, 320 MiB, in one run (issue #16).
 * `npm run coordinator` passes the same flags; a test keeps the two in step.
 */
export const COORDINATOR_NODE_FLAGS = ["--max-semi-space-size=8", "--max-old-space-size=160"];
