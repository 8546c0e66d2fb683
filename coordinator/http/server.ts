/**
 * The coordinator's HTTP server (express): the REST data plane, the GraphQL API and the metrics, on one port.
 * Requesters upload a job's inputs before posting it, provers download them. Inputs are validated against the
 * circuit's input signals (names, shapes, field range) and stored under their sha256, which is what the job carries
 * on chain as `inputsHash`; the download serves the exact bytes. Every refusal is a 4xx with a message naming what
 * is wrong; nothing is stored unless all of it is valid.
 *
 *   POST /inputs/:circuitId   body: the inputs document (JSON)  -> 201 { hash, uri, inputsCommitment, publicInputs }
 *   GET  /inputs/:hash        -> the document, byte for byte
 *   GET  /circuits/:id        -> the circuit as indexed, its manifest, and where each artifact is with its sha256
 *   GET  /circuits/:id/artifacts/:kind  -> wasm | r1cs | zkey | vkey | verifier | source, checked by the manifest
 *   GET  /health              -> { ok, indexedBlock }
 *   /graphql                  -> the GraphQL API (coordinator/graphql/)
 *   GET  /metrics             -> Prometheus metrics (when the app is given them)
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { InputsError, parseInputsDocument, sha256Hex } from "../../common/inputs/document.ts";
import type { Db } from "../db/client.ts";
import type { JobChangeFeed } from "../graphql/jobChangeFeed.ts";
import type { ResponseCache } from "../graphql/responseCache.ts";
import type { CoordinatorMetrics } from "../metrics.ts";
import { graphqlHttpHandler } from "../graphql/httpHandler.ts";
import { createGraphQL } from "../graphql/yoga.ts";
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  artifactFile,
  manifestFor,
} from "../../common/circuits/registeredManifest.ts";

export interface HttpAppOptions {
  db: Db;
  /** The URL clients reach this service at, for the `uri` of uploads; by default the host each request names. */
  publicUrl?: string;
  maxInputBytes?: number;
  /** Where the indexer announces changed jobs, for GraphQL subscriptions. */
  jobChanges?: JobChangeFeed;
  /** GraphQL answers kept between the indexer's commits. */
  responseCache?: ResponseCache;
  /** Served at /metrics, with each request's duration recorded. */
  metrics?: CoordinatorMetrics;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function buildHttpApp({
  db,
  publicUrl,
  maxInputBytes = 1_000_000,
  jobChanges,
  responseCache,
  metrics,
}: HttpAppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  if (metrics) {
    app.use((req: Request, res: Response, next: NextFunction) => {
      const end = metrics.httpSeconds.startTimer();
      res.once("finish", () =>
        end({ route: req.route?.path ?? req.path.split("/")[1] ?? "", status: String(res.statusCode) }),
      );
      next();
    });
    app.get("/metrics", async (_req: Request, res: Response) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  app.post(
    "/inputs/:circuitId",
    // Kept as text: the stored bytes, and so the hash, are exactly what was sent.
    express.text({ type: () => true, limit: maxInputBytes }),
    async (req: Request, res: Response) => {
      const circuitId = Number(req.params.circuitId);
      if (!Number.isSafeInteger(circuitId) || circuitId <= 0)
        throw new HttpError(400, `circuit id must be a positive integer, got ${req.params.circuitId}`);
      const circuit = await db.circuit.findUnique({ where: { id: circuitId } });
      if (circuit === null) throw new HttpError(404, `no circuit ${circuitId} is registered (or indexed yet)`);
      const manifest = manifestFor(circuit.artifactsURI)?.manifest ?? null;
      if (manifest === null)
        throw new HttpError(
          422,
          `circuit ${circuitId}'s manifest (${circuit.artifactsURI}) cannot be read by this coordinator`,
        );
      const text = typeof req.body === "string" ? req.body : "";
      if (text.length === 0) throw new HttpError(400, "empty body: send the inputs document as JSON");
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
      }
      let parsed;
      try {
        parsed = parseInputsDocument(manifest, document);
      } catch (e) {
        if (e instanceof InputsError) throw new HttpError(400, `inputs do not fit ${manifest.name}: ${e.message}`);
        throw e;
      }
      const hash = sha256Hex(text);
      const bytes = Buffer.byteLength(text);
      await db.inputsDocument.upsert({
        where: { hash },
        create: { hash, circuitId, content: text, bytes, createdAt: Math.floor(Date.now() / 1000) },
        update: {},
      });
      res.status(201).json({
        hash,
        uri: `${publicUrl ?? `${req.protocol}://${req.get("host")}`}/inputs/${hash}`,
        inputsCommitment: parsed.inputsCommitment,
        publicInputs: parsed.publicInputs.map(String),
        bytes,
      });
    },
  );

  app.get("/inputs/:hash", async (req: Request, res: Response) => {
    const hash = String(req.params.hash).toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(hash)) throw new HttpError(400, "expected a 0x-prefixed sha256 (64 hex digits)");
    const doc = await db.inputsDocument.findUnique({ where: { hash } });
    if (doc === null) throw new HttpError(404, `no inputs stored under ${hash}`);
    res.type("application/json").send(doc.content);
  });

  app.get("/circuits/:id", async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const circuit = Number.isSafeInteger(id) ? await db.circuit.findUnique({ where: { id } }) : null;
    if (circuit === null) throw new HttpError(404, `no circuit ${req.params.id}`);
    const located = manifestFor(circuit.artifactsURI);
    const artifacts = Object.fromEntries(
      ARTIFACT_KINDS.flatMap((kind) => {
        const found = located && artifactFile(located, circuit.system, kind);
        return found ? [[kind, { url: `/circuits/${id}/artifacts/${kind}`, sha256: found.artifact.sha256 }]] : [];
      }),
    );
    res.json({ ...circuit, manifest: located?.manifest ?? null, artifacts });
  });

  // The files a prover needs, with the sha256 the manifest records in `x-artifact-sha256` (and as the ETag), so a
  // download can be checked against the manifest whose hash is on chain.
  app.get("/circuits/:id/artifacts/:kind", async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const kind = String(req.params.kind);
    if (!ARTIFACT_KINDS.includes(kind as ArtifactKind))
      throw new HttpError(400, `unknown artifact kind ${kind}: expected one of ${ARTIFACT_KINDS.join(", ")}`);
    const circuit = Number.isSafeInteger(id) ? await db.circuit.findUnique({ where: { id } }) : null;
    if (circuit === null) throw new HttpError(404, `no circuit ${req.params.id}`);
    const located = manifestFor(circuit.artifactsURI);
    if (located === null)
      throw new HttpError(404, `circuit ${id}'s manifest (${circuit.artifactsURI}) is not held by this coordinator`);
    const found = artifactFile(located, circuit.system, kind as ArtifactKind);
    if (found === null) throw new HttpError(404, `circuit ${id} (${circuit.system}) has no ${kind} artifact`);
    res.setHeader("x-artifact-sha256", found.artifact.sha256);
    res.sendFile(found.path, { etag: false, headers: { etag: `"${found.artifact.sha256}"` } });
  });

  app.get("/health", async (_req: Request, res: Response) => {
    const checkpoint = await db.indexerCheckpoint.findUnique({ where: { id: 1 } });
    res.json({ ok: true, indexedBlock: checkpoint?.lastBlock ?? null });
  });

  const graphql = createGraphQL(db, { jobChanges });
  app.use(graphql.graphqlEndpoint, graphqlHttpHandler(graphql, responseCache));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: "no such route" });
  });

  // Errors become JSON with a message a client can act on; unexpected ones do not leak internals. (express
  // recognises an error handler by its four parameters, so `next` stays though unused.)
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) return res.status(err.status).json({ error: err.message });
    if (err.type === "entity.too.large")
      return res.status(413).json({ error: `inputs are larger than the ${maxInputBytes}-byte limit` });
    if (typeof err.status === "number" && err.status >= 400 && err.status < 500)
      return res.status(err.status).json({ error: err.message });
    console.error(err);
    return res.status(500).json({ error: "internal error" });
  });
  return app;
}
