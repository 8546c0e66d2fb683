/**
 * Builds land all at once: everything is written into a staging folder beside the destination (same file system,
 * so the final rename is atomic per folder), and the destination is replaced only when the build succeeded. A
 * failed build removes its staging folder and leaves the destination as it was.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { BuildError } from "./buildError.ts";

export interface Staging {
  dir: string;
  /** Moves the staging folder onto the destination, replacing what was there. */
  commit(): void;
  /** Removes the staging folder (a no-op after commit). */
  discard(): void;
}

export function stageBeside(destination: string): Staging {
  let dir: string;
  try {
    mkdirSync(path.dirname(destination), { recursive: true });
    dir = mkdtempSync(`${destination}.building-`);
  } catch (e) {
    throw new BuildError(
      `cannot create the output folder ${destination} (${(e as Error).message}): give --out a folder you can create`,
    );
  }
  let committed = false;
  return {
    dir,
    commit() {
      // A folder cannot be renamed over a non-empty one: move the old one aside first, drop it once replaced.
      chmodSync(dir, 0o755); // mkdtemp makes it private; the artifacts are not secret
      const previous = existsSync(destination) ? `${dir}.previous` : null;
      if (previous) renameSync(destination, previous);
      renameSync(dir, destination);
      committed = true;
      if (previous) rmSync(previous, { recursive: true, force: true });
    },
    discard() {
      if (!committed) rmSync(dir, { recursive: true, force: true });
    },
  };
}
