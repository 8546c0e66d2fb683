#!/usr/bin/env node
// `proofmarket-worker`, the operator's CLI (package.json's "bin"). Plain JavaScript, so that an older Node.js
// gets one line naming the version it needs (scripts/requireNode.js) instead of failing on TypeScript it cannot run.
import "../scripts/requireNode.js";
await import("../prover-worker/src/cli.ts");
