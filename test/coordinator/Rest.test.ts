/**
 * The coordinator's REST data plane with a real database and a real chain: inputs are uploaded, validated
 * against the circuit's signals and stored content-addressed; bad uploads get a 4xx that says what is wrong and
 * store nothing; and a worker proves a job whose inputs it fetches from the coordinator over HTTP.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import type { Server } from "node:http";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { parseInputsDocument, sha256Hex } from "../../common/inputs/document.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { createIndexer } from "../../coordinator/indexer/indexer.ts";
import { buildHttpApp } from "../../coordinator/http/server.ts";
import { type Devnet, startDevnet, waitForStatus, workerConfigFor } from "../helpers/market.ts";
import { stakedWorkerConfig, startWorker } from "../helpers/workerProcess.ts";

describe("coordinator REST: inputs", function () {
  let devnet: Devnet;
  let scratch: ScratchDatabase;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  let server: Server;
  let base: string;
  let circuitId: bigint;

  before(async function () {
    devnet = await startDevnet();
    circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    scratch = await scratchDatabase("sqlite");
    await migrate(scratch.url);
    database = await openDatabase(scratch.url);
    await createIndexer({
      db: database.db,
      provider: devnet.chain.provider,
      marketAddress: devnet.deployment.market,
      startBlock: 0,
      confirmations: 0,
      rangeSize: 500,
    }).catchUp();
    await new Promise<void>((resolve) => {
      server = buildHttpApp({ db: database.db, maxInputBytes: 10_000 }).listen(0, "127.0.0.1", () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async function () {
    server?.close();
    await database?.close();
    await scratch?.drop();
    await devnet?.chain.stop();
  });

  const upload = (id: bigint | string, body: string) =>
    fetch(`${base}/inputs/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("stores valid inputs under their sha256 and serves them byte for byte", async function () {
    const document = await exampleInputs("poseidon_preimage", "rest-1");
    const body = JSON.stringify(document);
    const response = await upload(circuitId, body);
    expect(response.status).to.equal(201);
    const created = await response.json();
    expect(created.hash).to.equal(sha256Hex(body));
    expect(created.uri).to.equal(`${base}/inputs/${created.hash}`);
    expect(created.inputsCommitment).to.equal(
      parseInputsDocument(loadManifest("poseidon_preimage"), document).inputsCommitment,
    );
    const fetched = await fetch(created.uri);
    expect(fetched.headers.get("content-type")).to.match(/application\/json/);
    expect(await fetched.text()).to.equal(body);
    // The same upload again is the same document.
    expect((await (await upload(circuitId, body)).json()).hash).to.equal(created.hash);
  });

  it("serves a circuit's artifacts with the sha256 its manifest records", async function () {
    const circuit = await (await fetch(`${base}/circuits/${circuitId}`)).json();
    const manifest = loadManifest("poseidon_preimage");
    expect(circuit.name).to.equal("poseidon_preimage/groth16");
    expect(Object.keys(circuit.artifacts).sort()).to.deep.equal(
      ["r1cs", "source", "verifier", "vkey", "wasm", "zkey"].sort(),
    );
    expect(circuit.artifacts.zkey.sha256).to.equal(manifest.systems.groth16!.zkey.sha256);
    for (const kind of ["zkey", "wasm", "vkey"]) {
      const response = await fetch(`${base}${circuit.artifacts[kind].url}`);
      expect(response.status).to.equal(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).to.equal(circuit.artifacts[kind].sha256);
      expect(response.headers.get("x-artifact-sha256")).to.equal(circuit.artifacts[kind].sha256);
    }
    const unknownKind = await fetch(`${base}/circuits/${circuitId}/artifacts/ptau`);
    expect(unknownKind.status).to.equal(400);
    expect((await unknownKind.json()).error).to.match(/unknown artifact kind ptau: expected one of wasm, r1cs/);
    const unknownCircuit = await fetch(`${base}/circuits/999/artifacts/zkey`);
    expect(unknownCircuit.status).to.equal(404);
    expect((await unknownCircuit.json()).error).to.equal("no circuit 999");
  });

  it("refuses bad uploads with a message naming the problem, and stores nothing", async function () {
    const before = await database.db.inputsDocument.count();
    const good = await exampleInputs("poseidon_preimage", "rest-2");
    const cases: [bigint | string, string, number, RegExp][] = [
      [circuitId, "{not json", 400, /not valid JSON/],
      [circuitId, "", 400, /empty body/],
      [circuitId, JSON.stringify({ ...good, extra: "1" }), 400, /unknown input signal\(s\) extra/],
      [circuitId, JSON.stringify({ hash: good.hash, context: good.context }), 400, /missing input signal preimage/],
      [circuitId, JSON.stringify({ ...good, preimage: ["1"] }), 400, /preimage: expected an array of 2 elements/],
      [
        circuitId,
        JSON.stringify({
          ...good,
          hash: "21888242871839275222246405745257275088548364400416034343698204186575808495617",
        }),
        400,
        /hash: .* is not below the BN254 scalar field order/,
      ],
      [circuitId, JSON.stringify({ ...good, context: "-1" }), 400, /context: expected a non-negative integer/],
      [circuitId, JSON.stringify({ ...good, pad: "x".repeat(20_000) }), 413, /larger than the 10000-byte limit/],
      [999n, JSON.stringify(good), 404, /no circuit 999/],
      ["abc", JSON.stringify(good), 400, /circuit id must be a positive integer/],
    ];
    for (const [id, body, status, message] of cases) {
      const response = await upload(id, body);
      expect(response.status, body.slice(0, 60)).to.equal(status);
      expect((await response.json()).error).to.match(message);
    }
    expect((await fetch(`${base}/inputs/0x1234`)).status).to.equal(400);
    expect((await fetch(`${base}/inputs/0x${"ab".repeat(32)}`)).status).to.equal(404);
    expect(await database.db.inputsDocument.count()).to.equal(before);
  });

  it("a worker proves a job whose inputs it fetches from the coordinator", async function () {
    const document = await exampleInputs("poseidon_preimage", "rest-job");
    const created = await (await upload(circuitId, JSON.stringify(document))).json();
    const requester = devnet.chain.accounts[2];
    const market = connectMarket(devnet.deployment.market, requester);
    const { connectToken } = await import("../../common/contracts/artifacts.ts");
    await (await connectToken(devnet.deployment.token, requester).approve(devnet.deployment.market, 10n ** 21n)).wait();
    const now = (await devnet.chain.provider.getBlock("latest"))!.timestamp;
    const receipt = (await (
      await market.postJob({
        circuitId,
        minFee: 10n ** 18n,
        maxFee: 10n ** 18n,
        rampStart: 0n,
        rampDuration: 0n,
        bond: 10n ** 18n,
        provingWindow: 300n,
        expiresAt: BigInt(now + 3600),
        inputsCommitment: created.inputsCommitment,
        inputsHash: created.hash,
        inputsURI: created.uri,
      })
    ).wait())!;
    const jobId = market.interface.parseLog(
      receipt.logs.find((l) => market.interface.parseLog(l)?.name === "JobPosted")!,
    )!.args.jobId;

    const prover = devnet.chain.accounts[1];
    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, [{ circuitId, manifest: "poseidon_preimage", system: "groth16" }]),
    );
    const worker = startWorker(file, prover.privateKey);
    try {
      await waitForStatus(devnet, jobId, JOB_STATUS.Proved);
    } finally {
      worker.proc.kill("SIGTERM");
      await worker.exited;
    }
  });
});
