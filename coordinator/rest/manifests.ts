/**
 * Finds the manifest of a circuit registered on chain from its `artifactsURI`: a path inside this repository
 * (how the devnet registers the example circuits) or a file:// URL. Manifests are read once.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { type CircuitManifest, readManifest } from "../../common/circuits/manifest.ts";

const cache = new Map<string, CircuitManifest | null>();

export function manifestFor(artifactsURI: string): CircuitManifest | null {
  if (!cache.has(artifactsURI)) {
    let file: string | null = null;
    if (artifactsURI.startsWith("file://")) file = fileURLToPath(artifactsURI);
    else if (!/^[a-z]+:/i.test(artifactsURI)) file = path.resolve(REPO_ROOT, artifactsURI);
    let manifest: CircuitManifest | null;
    try {
      manifest = file === null ? null : readManifest(file);
    } catch {
      manifest = null;
    }
    cache.set(artifactsURI, manifest);
  }
  return cache.get(artifactsURI)!;
}
