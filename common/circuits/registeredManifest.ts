/**
 * Finds the manifest of a circuit registered on chain from its `artifactsURI`: a path inside this repository
 * (how circuits built here are registered) or a file:// URL. Manifests are read once. The coordinator and the
 * requester both use it. `artifactFile` maps an
 * artifact kind of a registered circuit (its proof system's keys, or the circuit's own files) to the file and
 * the sha256 the manifest records for it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "./catalog.ts";
import { type ArtifactFile, artifactPath, type CircuitManifest, PROOF_SYSTEMS, readManifest } from "./manifest.ts";

export interface LocatedManifest {
  file: string;
  manifest: CircuitManifest;
}

const cache = new Map<string, LocatedManifest | null>();

export function manifestFor(artifactsURI: string): LocatedManifest | null {
  if (!cache.has(artifactsURI)) {
    let file: string | null = null;
    if (artifactsURI.startsWith("file://")) file = fileURLToPath(artifactsURI);
    else if (!/^[a-z]+:/i.test(artifactsURI)) file = path.resolve(REPO_ROOT, artifactsURI);
    let located: LocatedManifest | null;
    try {
      located = file === null ? null : { file, manifest: readManifest(file) };
    } catch {
      located = null;
    }
    cache.set(artifactsURI, located);
  }
  return cache.get(artifactsURI)!;
}

/** The artifacts of a registered circuit (what GET /circuits/:id/artifacts/:kind serves). */
export const ARTIFACT_KINDS = ["wasm", "r1cs", "zkey", "vkey", "verifier", "source"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function artifactFile(
  located: LocatedManifest,
  system: string,
  kind: ArtifactKind,
): { path: string; artifact: ArtifactFile } | null {
  const { manifest, file } = located;
  const keys = PROOF_SYSTEMS.includes(system as never) ? manifest.systems[system as never] : undefined;
  const artifact =
    kind === "wasm" || kind === "r1cs" || kind === "source"
      ? manifest[kind]
      : keys === undefined
        ? undefined
        : keys[kind];
  return artifact === undefined ? null : { path: artifactPath(file, artifact), artifact };
}
