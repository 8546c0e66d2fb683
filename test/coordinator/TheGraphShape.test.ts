/**
 * One query text for the coordinator and the subgraph (issue #16). The coordinator serves the query API graph-node
 * derives from subgraph/schema.graphql: the same root fields, filters and orders (derived by the same rules from
 * the same entities), every query of the README and of the project's clients valid against both and answered by
 * the coordinator, and graph-node's behaviour where a client notices it: page limits, default order, numeric
 * amounts, Bytes in any case, the filter operators and their edge cases, child filters, `block` and `_meta`. The
 * filters are evaluated in SQL (jobs, events, provers) and in memory (circuits, totals); on random jobs and random
 * filters both give the same answer, on SQLite and on PostgreSQL.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  buildSchema,
  type GraphQLObjectType,
  type GraphQLSchema,
  isScalarType,
  Kind,
  parse,
  printType,
  validate,
} from "graphql";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { deriveQueryApi, entitiesOf, queryFieldNames } from "../../coordinator/graphql/graphNodeApi.ts";
import { type Condition, matches, parseFilter, sortEntities } from "../../coordinator/graphql/theGraphFilter.ts";
import { entityModel } from "../../coordinator/graphql/theGraphLists.ts";
import { coordinatorTypeDefs, createGraphQL, schemaSource } from "../../coordinator/graphql/yoga.ts";
import { seededRandom } from "../../dev/random.ts";
import { clientDocuments, type FoundDocument, readmeDocuments } from "../helpers/graphqlDocuments.ts";
import { ALICE, BOB, seed } from "../helpers/theGraphRows.ts";

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");
const coordinatorSource = schemaSource();
const COORDINATOR = buildSchema(coordinatorTypeDefs());
const SUBGRAPH = buildSchema(deriveQueryApi(read("subgraph/schema.graphql")));
const MODEL = entityModel(parse(coordinatorSource));

/** What only the coordinator serves, and why a query that asks for it cannot run on a subgraph. */
const COORDINATOR_ONLY = ["currentPrice", "jobsPage", "proversPage", "jobStatus", "Subscription"];

describe("The Graph's query shape on the coordinator", function () {
  describe("the schema", function () {
    it("derives what graph-node serves, type for type (a small schema, against graph-node's output written apart)", function () {
      const example = `enum JobStatus { Open Claimed }
        type Job @entity(immutable: false) { id: ID! circuit: Circuit! requester: Bytes! status: JobStatus! maxFee: BigInt!
          lockedPrice: BigInt outputs: [String!] events: [JobEvent!]! @derivedFrom(field: "job") }
        type JobEvent @entity(immutable: true) { id: ID! job: Job! kind: String! blockNumber: Int! }
        type Circuit @entity(immutable: false) { id: ID! name: String! recentLockedPrices: [BigInt!]! }
        type MarketStats @entity(immutable: false) { id: ID! open: Int! }`;
      const derived = buildSchema(deriveQueryApi(example));
      const golden = buildSchema(read("test/coordinator/fixtures/graphNodeExample.graphql"), { assumeValid: true });
      const types = (schema: GraphQLSchema) =>
        Object.values(schema.getTypeMap())
          .filter((t) => !t.name.startsWith("__") && !isScalarType(t))
          .map((t) => t.name)
          .sort();
      expect(types(derived)).to.deep.equal(types(golden));
      for (const name of types(golden))
        expect(printType(derived.getType(name)!), name).to.equal(printType(golden.getType(name)!));
    });

    it("has the subgraph's root fields, filters and orders, derived by graph-node's rules from the same entities", function () {
      const entities = entitiesOf(parse(read("subgraph/schema.graphql")))
        .map((e) => e.name)
        .filter((name) => name !== "ProofTimes");
      expect(entities).to.deep.equal(["Job", "JobEvent", "Prover", "Circuit", "MarketStats"]);
      expect(queryFieldNames("MarketStats")).to.deep.equal({
        singular: "marketStats",
        plural: "marketStats_collection",
      });
      expect(queryFieldNames("JobEvent").plural).to.equal("jobEvents");
      const rootArgs = (schema: GraphQLSchema) =>
        Object.fromEntries(
          Object.values(schema.getQueryType()!.getFields())
            .filter((f) => !f.name.startsWith("proofTimes"))
            .map((f) => [
              f.name,
              f.args.map((a) => `${a.name}: ${a.type}${a.defaultValue !== undefined ? ` = ${a.defaultValue}` : ""}`),
            ]),
        );
      const theirs = rootArgs(SUBGRAPH);
      const mine = rootArgs(COORDINATOR);
      for (const own of ["jobsPage", "proversPage"]) delete mine[own];
      expect(mine).to.deep.equal(theirs);
      expect(theirs.jobs).to.deep.equal([
        "skip: Int = 0",
        "first: Int = 100",
        "orderBy: Job_orderBy",
        "orderDirection: OrderDirection",
        "where: Job_filter",
        "block: Block_height",
        "subgraphError: _SubgraphErrorPolicy_! = deny",
      ]);
      for (const entity of entities)
        for (const type of [`${entity}_filter`, `${entity}_orderBy`])
          expect(printType(COORDINATOR.getType(type)!), type).to.equal(printType(SUBGRAPH.getType(type)!));
      // The kinds of filter graph-node gives each type of field.
      const filter = printType(SUBGRAPH.getType("Job_filter")!);
      expect(filter).to.include("maxFee_gte: BigInt").and.include("maxFee_in: [BigInt!]");
      expect(filter).to.include("requester_contains: Bytes").and.not.include("requester_starts_with");
      expect(filter).to.include("inputsURI_ends_with_nocase: String").and.include("status_not_in: [JobStatus!]");
      expect(filter).to.include("circuit_: Circuit_filter").and.include("circuit_starts_with: String");
      expect(filter).to.include("events_: JobEvent_filter").and.include("outputs_contains_nocase: [String!]");
      expect(filter).to.include("_change_block: BlockChangedFilter").and.include("or: [Job_filter]");
      expect(printType(SUBGRAPH.getType("Job_orderBy")!)).to.include("circuit__name");
      const events = (SUBGRAPH.getType("Job") as GraphQLObjectType).getFields().events;
      expect(events.args.map((a) => `${a.name}: ${a.type}`)).to.deep.equal([
        "skip: Int",
        "first: Int",
        "orderBy: JobEvent_orderBy",
        "orderDirection: OrderDirection",
        "where: JobEvent_filter",
      ]);
    });

    it("validates every query of the README and of the project's clients on both, and answers each on the coordinator", async function () {
      const documents: FoundDocument[] = [...readmeDocuments(), ...clientDocuments()];
      const where = documents.map((d) => d.where);
      // The ones a user meets first are among them (found by reading the files, not listed by hand).
      expect(where.filter((w) => w.startsWith("README.md")).length).to.be.at.least(4);
      expect(where).to.include.members(["requester/client.ts:179", "coordinator/graphql/exampleQuery.ts:7"]);
      const scratch = await scratchDatabase("sqlite");
      await migrate(scratch.url);
      const { db, close } = await openDatabase(scratch.url);
      try {
        await seed(db);
        const api = createGraphQL(db);
        for (const { where: at, text, document } of documents) {
          expect(
            validate(COORDINATOR, document).map((e) => e.message),
            `${at}: on the coordinator`,
          ).to.deep.equal([]);
          const onSubgraph = validate(SUBGRAPH, document).map((e) => e.message);
          // Only what the coordinator alone serves may fail on a subgraph, and each failure names it.
          for (const message of onSubgraph)
            expect(
              COORDINATOR_ONLY.some((name) => message.includes(`"${name}"`) || message.includes(name)),
              `${at}: on the subgraph: ${message}`,
            ).to.equal(true);
          const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
          if (operation.operation !== "query") continue;
          const variables = { id: "1", status: "Open", after: null };
          const response = await api.fetch("http://localhost/graphql", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ query: text, variables }),
          });
          const { errors } = (await response.json()) as { errors?: unknown };
          expect(errors, `${at}: answered by the coordinator`).to.equal(undefined);
        }
      } finally {
        await close();
        await scratch.drop();
      }
    });
  });

  for (const provider of PROVIDERS) {
    describe(`${provider}`, function () {
      let scratch: ScratchDatabase;
      let database: Awaited<ReturnType<typeof openDatabase>>;
      let api: ReturnType<typeof createGraphQL>;

      before(async function () {
        scratch = await scratchDatabase(provider);
        await migrate(scratch.url);
        database = await openDatabase(scratch.url);
        await seed(database.db);
        api = createGraphQL(database.db);
      });

      after(async function () {
        await database?.close();
        await scratch?.drop();
      });

      async function ask(query: string, variables: Record<string, unknown> = {}) {
        const response = await api.fetch("http://localhost/graphql", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as {
          data?: any;
          errors?: { message: string; extensions?: { code?: string } }[];
        };
      }
      const ids = async (query: string, variables: Record<string, unknown> = {}) => {
        const { data, errors } = await ask(query, variables);
        expect(errors, `${query} ${JSON.stringify(variables)}: ${JSON.stringify(errors)}`).to.equal(undefined);
        return (Object.values(data)[0] as { id: string }[]).map((x) => x.id);
      };
      const refusal = async (query: string) => {
        const { errors } = await ask(query);
        expect(errors, query).to.have.length.greaterThan(0);
        return errors![0].message;
      };

      it("pages as graph-node does: by id (as text) by default, at most 1,000, skip at most 5,000", async function () {
        expect(await ids(`{ jobs { id } }`)).to.deep.equal([
          "1",
          "10",
          "11",
          "12",
          "2",
          "3",
          "4",
          "5",
          "6",
          "7",
          "8",
          "9",
        ]);
        // orderDirection alone changes nothing: with no orderBy the order is by id, ascending.
        expect(await ids(`{ jobs(orderDirection: desc, first: 3) { id } }`)).to.deep.equal(["1", "10", "11"]);
        expect(await ids(`{ jobs(orderBy: postedAt, orderDirection: desc, first: 3, skip: 1) { id } }`)).to.deep.equal([
          "11",
          "10",
          "9",
        ]);
        expect(await refusal(`{ jobs(first: 1001) { id } }`)).to.equal(
          "The `first` argument must be between 0 and 1000, but is 1001",
        );
        expect(await refusal(`{ jobs(first: 0) { id } }`)).to.equal(
          "The `first` argument must be between 0 and 1000, but is 0",
        );
        expect(await refusal(`{ jobs(skip: 5001) { id } }`)).to.match(
          /^The `skip` argument must be between 0 and 5000, but is 5001: to go further, filter on the order's field/,
        );
        expect(await refusal(`{ job(id: "1") { events(first: 1001) { id } } }`)).to.match(/`first` argument/);
      });

      it("compares and orders amounts as numbers, not text", async function () {
        // maxFee is 100 × id: 900 (job 9) is less than 1000 (job 10), which text would have the other way round.
        expect(await ids(`{ jobs(where: { maxFee_gt: "900" }, orderBy: maxFee) { id } }`)).to.deep.equal([
          "10",
          "11",
          "12",
        ]);
        expect(
          await ids(`{ jobs(where: { maxFee_lte: 300 }, orderBy: maxFee, orderDirection: desc) { id } }`),
        ).to.deep.equal(["3", "2", "1"]);
        expect(await ids(`{ jobs(where: { maxFee_in: ["200", "1100"] }) { id } }`)).to.deep.equal(["11", "2"]);
        expect(await ids(`{ jobs(where: { maxFee_gt: "-5" }, first: 2) { id } }`)).to.deep.equal(["1", "10"]);
        // Nulls last ascending and first descending, as in graph-node's database.
        const locked = await ask(`{ jobs(orderBy: lockedPrice, first: 12) { id lockedPrice } }`);
        const prices = locked.data.jobs.map((j: { lockedPrice: string | null }) => j.lockedPrice);
        expect(prices.slice(-1)).to.deep.equal([null]);
        expect(prices.filter((p: string | null) => p !== null).map(Number)).to.deep.equal(
          [...prices.filter((p: string | null) => p !== null).map(Number)].sort((a, b) => a - b),
        );
        expect(await refusal(`{ jobs(where: { maxFee: "1e3" }) { id } }`)).to.match(/BigInt: .* is not a whole number/);
      });

      it("matches Bytes whatever the case asked, and answers them lowercase", async function () {
        const upper = `0x${ALICE.slice(2).toUpperCase()}`;
        expect(await ids(`{ jobs(where: { requester: "${upper}" }, orderBy: postedAt) { id } }`)).to.have.length(6);
        expect((await ask(`{ prover(id: "${upper}") { id address } }`)).data.prover).to.deep.equal({
          id: ALICE,
          address: ALICE,
        });
        expect(
          await ids(`{ jobs(where: { requester_in: ["${BOB.toUpperCase().replace("0X", "0x")}"] }) { id } }`),
        ).to.have.length(6);
        expect(await ids(`{ jobs(where: { requester_contains: "0x70997970" }) { id } }`)).to.have.length(6);
        expect(await refusal(`{ jobs(where: { requester: "0xabc" }) { id } }`)).to.match(/Bytes: .* is not hex bytes/);
      });

      it("has graph-node's edge cases: empty lists match nothing, negations never match null, lists contain all", async function () {
        expect(await ids(`{ jobs(where: { id_in: [] }) { id } }`)).to.deep.equal([]);
        expect(await ids(`{ jobs(where: { id_not_in: [] }) { id } }`)).to.deep.equal([]);
        // lockedPrice is null on the Open jobs: `_not` leaves them out, `: null` finds them.
        const open = await ids(`{ jobs(where: { status: Open }) { id } }`);
        expect(await ids(`{ jobs(where: { lockedPrice: null }) { id } }`)).to.deep.equal(open);
        const notFive = await ids(`{ jobs(where: { lockedPrice_not: "500" }) { id } }`);
        expect(notFive.some((id) => open.includes(id))).to.equal(false);
        expect(await ids(`{ jobs(where: { assignee_not: null }) { id } }`)).to.not.include.members(open);
        // outputs: ["1", "<id>"] on proved jobs
        expect(await ids(`{ jobs(where: { outputs_contains: ["1", "5"] }) { id } }`)).to.deep.equal(["5"]);
        expect(await ids(`{ jobs(where: { outputs_not_contains: ["1"] }) { id } }`)).to.deep.equal([]);
        expect(await ids(`{ jobs(where: { outputs: ["1", "8"] }) { id } }`)).to.deep.equal(["8"]);
        // A null list has no element like the value: `_not_contains_nocase` passes it, as graph-node's NOT EXISTS does.
        expect(await ids(`{ jobs(where: { outputs_not_contains_nocase: ["5"] }) { id } }`)).to.have.length(11);
        // Bytes contain bytes: Alice's address 0x70997970… holds the bytes 99 79, not 09 97 (half a byte off).
        expect(await ids(`{ jobs(where: { requester_contains: "0x9979" }) { id } }`)).to.have.length(6);
        expect(await ids(`{ jobs(where: { requester_contains: "0x0997" }) { id } }`)).to.deep.equal([]);
        expect(await ids(`{ jobs(where: { requester_not_contains: "0x0997" }) { id } }`)).to.have.length(12);
        // text operators (inputsURI is "ipfs://Job<id>")
        expect(await ids(`{ jobs(where: { inputsURI_ends_with: "b12" }) { id } }`)).to.deep.equal(["12"]);
        expect(await ids(`{ jobs(where: { inputsURI_starts_with_nocase: "IPFS://JOB1" }) { id } }`)).to.deep.equal([
          "1",
          "10",
          "11",
          "12",
        ]);
        expect(await ids(`{ jobs(where: { inputsURI_not_contains: "Job1" }) { id } }`)).to.have.length(8);
        expect(await ids(`{ jobs(where: { inputsURI_contains_nocase: "JOB2" }) { id } }`)).to.deep.equal(["2"]);
      });

      it("filters on a job's circuit and history, an event's job, and with and/or; refuses what graph-node refuses", async function () {
        expect(await ids(`{ jobs(where: { circuit_: { name_starts_with: "multi" } }) { id } }`)).to.deep.equal([
          "11",
          "2",
          "5",
          "8",
        ]);
        expect(await ids(`{ jobs(where: { events_: { kind: "Reassigned" } }) { id } }`)).to.deep.equal(["4"]);
        expect(
          await ids(`{ jobEvents(where: { job_: { status: Proved }, kind: "Proved" }, orderBy: blockNumber) { id } }`),
        ).to.have.length(4);
        expect(await ids(`{ jobs(where: { or: [{ status: Proved }, { maxFee_gte: "1200" }] }) { id } }`)).to.deep.equal(
          ["11", "12", "2", "5", "8"],
        );
        expect(await ids(`{ jobs(where: { and: [{ status: Proved }, { maxFee_gte: "600" }] }) { id } }`)).to.deep.equal(
          ["11", "8"],
        );
        expect(await refusal(`{ jobs(where: { status: Open, or: [{ id: "1" }] }) { id } }`)).to.match(
          /`or` must stand alone in its object .*found `status` beside it/,
        );
        expect(await refusal(`{ jobEvents(where: { job_: { events_: { kind: "Posted" } } }) { id } }`)).to.match(
          /a filter on a child entity cannot hold another/,
        );
        // A filter's size and a query's filtered lists are bounded (graph-node has no such bounds; a scan each).
        const many = Array.from({ length: 101 }, (_, i) => `{ id: "${i}" }`).join(" ");
        expect(await refusal(`{ jobs(where: { or: [${many}] }) { id } }`)).to.match(
          /^where: 101 conditions, more than 100: split the query/,
        );
        const values = JSON.stringify(Array.from({ length: 1001 }, (_, i) => String(i)));
        expect(await refusal(`{ jobs(where: { id_in: ${values} }) { id } }`)).to.match(
          /^where: `id_in` lists 1001 values, more than 1000/,
        );
        const scans = Array.from({ length: 60 }, (_, i) => `a${i}: jobs(where: { status: Open }, first: 1) { id }`);
        expect(await refusal(`{ ${scans.join(" ")} }`)).to.match(/^query cost 6120 exceeds the limit of 5000/);
        expect(await refusal(`{ jobs(orderBy: status) { id } }`)).to.equal(
          "Ordering by `status` is not supported for type `Job`",
        );
        expect(await ids(`{ jobs(orderBy: circuit__name, first: 4) { id } }`)).to.deep.equal(["11", "2", "5", "8"]);
      });

      it("lists a job's history in chain order by id, filters it, and lists events, provers, circuits and totals", async function () {
        const { data } = await ask(
          `{ job(id: "4") { events { id kind blockNumber } claimed: events(where: { kind: "Claimed" }, orderBy: blockNumber, orderDirection: desc) { blockNumber } } }`,
        );
        expect(data.job.events.map((e: { kind: string }) => e.kind)).to.deep.equal([
          "Posted",
          "Claimed",
          "Reassigned",
          "Claimed",
        ]);
        expect(data.job.events.map((e: { id: string }) => e.id)).to.deep.equal(
          [...data.job.events.map((e: { id: string }) => e.id)].sort(),
        );
        expect(data.job.claimed.map((e: { blockNumber: number }) => e.blockNumber)).to.deep.equal([46, 44]);
        expect(await ids(`{ provers(where: { staked_gt: "50" }, orderBy: staked) { id } }`)).to.deep.equal([ALICE]);
        const circuits = await ask(`{ circuits(where: { medianLockedPrice_gt: "0" }) { id name medianLockedPrice } }`);
        expect(circuits.data.circuits.map((c: { id: string }) => c.id)).to.deep.equal(["1", "2"]);
        expect(await ids(`{ circuits(where: { name_in: ["poseidon"] }) { id } }`)).to.deep.equal(["1"]);
        const totals = await ask(`{ marketStats_collection(where: { proved_gte: 1 }) { id proved } }`);
        expect(totals.data.marketStats_collection).to.deep.equal([{ id: "market", proved: 4 }]);
        expect((await ask(`{ marketStats(id: "other") { id } }`)).data.marketStats).to.equal(null);
      });

      it("answers `_change_block`, `block` and `_meta` at the newest block it has indexed", async function () {
        // Only jobs 4 (claimed, reassigned and claimed again at 44 to 46) and 12 (posted at 50) changed at block 42
        // or later.
        expect(await ids(`{ jobs(where: { _change_block: { number_gte: 42 } }) { id } }`)).to.deep.equal(["12", "4"]);
        expect(await ids(`{ jobEvents(where: { _change_block: { number_gte: 50 } }) { id } }`)).to.have.length(1);
        const meta = await ask(`{ _meta { block { number hash } deployment hasIndexingErrors } }`);
        expect(meta.data._meta).to.deep.equal({
          block: { number: 60, hash: "0x60" },
          deployment: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
          hasIndexingErrors: false,
        });
        expect(await ids(`{ jobs(block: { number_gte: 60 }, first: 1) { id } }`)).to.deep.equal(["1"]);
        expect(await ids(`{ jobs(block: { number: 60 }, first: 1) { id } }`)).to.deep.equal(["1"]);
        expect(await ids(`{ jobs(block: { hash: "0x60" }, first: 1) { id } }`)).to.deep.equal(["1"]);
        expect(await refusal(`{ jobs(block: { number_gte: 61 }) { id } }`)).to.equal(
          "block.number_gte: the coordinator has indexed up to block number 60, and data for block number 61 is not yet available",
        );
        expect(await refusal(`{ job(id: "1", block: { number: 59 }) { id } }`)).to.match(
          /^block.number: the coordinator keeps the current state only, at block 60: ask without `block`.*ask a subgraph for the state at block 59$/,
        );
      });

      it("gives the same answer in SQL as graph-node's rules in memory, for random filters and orders", async function () {
        this.timeout(60_000);
        const all = (await ask(`{ jobs(first: 100) { ${JOB_FIELDS} } }`)).data.jobs as Record<string, unknown>[];
        const rng = seededRandom(provider === "sqlite" ? 5 : 6);
        const fields = MODEL.fields("Job");
        for (let round = 0; round < 150; round++) {
          const where = randomFilter(rng, all);
          const orderBy = rng.pick([
            "id",
            "maxFee",
            "lockedPrice",
            "postedAt",
            "attempt",
            "requester",
            "inputsURI",
            null,
          ]);
          const orderDirection = rng.pick(["asc", "desc"]);
          const got = await ids(
            `query($where: Job_filter, $orderBy: Job_orderBy, $orderDirection: OrderDirection) { jobs(first: 1000, where: $where, orderBy: $orderBy, orderDirection: $orderDirection) { id } }`,
            { where, orderBy, orderDirection },
          );
          // As the Bytes scalar reads them: hex in lowercase.
          const read = JSON.parse(JSON.stringify(where), (_k, v) =>
            typeof v === "string" && /^0x[0-9a-fA-F]*$/i.test(v) ? v.toLowerCase() : v,
          );
          const condition: Condition = parseFilter("Job", read, MODEL.fields);
          const kept = all.filter((job) => matches(condition, job) === true);
          const want = sortEntities(kept, "Job", fields, orderBy, orderDirection).map((j) => j.id);
          expect(got, `${JSON.stringify(where)} by ${orderBy} ${orderDirection}`).to.deep.equal(want);
        }
      });
    });
  }
});

const JOB_FIELDS =
  "id requester status minFee maxFee lockedPrice bond rampStart attempt assignee inputsURI outputs postedAt provedAt";

/** A random `where` over a job's fields, with values drawn from the jobs (so that some match). */
function randomFilter(rng: ReturnType<typeof seededRandom>, jobs: Record<string, unknown>[]): Record<string, unknown> {
  const job = rng.pick(jobs);
  const amount = () => rng.pick([String(rng.int(1500)), String(job.maxFee), "99", "1000"]);
  const clauses: (() => Record<string, unknown>)[] = [
    () => ({ [`maxFee${rng.pick(["", "_not", "_gt", "_lt", "_gte", "_lte"])}`]: amount() }),
    () => ({ [`lockedPrice${rng.pick(["", "_not"])}`]: rng.next() < 0.3 ? null : amount() }),
    () => ({ [`lockedPrice${rng.pick(["_gt", "_lte"])}`]: amount() }),
    () => ({ [`maxFee${rng.pick(["_in", "_not_in"])}`]: [amount(), amount()] }),
    () => ({ [`status${rng.pick(["", "_not"])}`]: job.status }),
    () => ({ [`status${rng.pick(["_in", "_not_in"])}`]: [job.status, rng.pick(["Open", "Expired"])] }),
    () => ({
      [`requester${rng.pick(["", "_not", "_gt", "_lt"])}`]: String(job.requester).toUpperCase().replace("0X", "0x"),
    }),
    () => ({ [`assignee${rng.pick(["", "_not"])}`]: rng.next() < 0.3 ? null : (job.assignee ?? ALICE) }),
    () => ({ [`id${rng.pick(["", "_not", "_gt", "_lt", "_gte", "_lte"])}`]: String(job.id) }),
    () => ({ [`attempt${rng.pick(["", "_gt", "_lte"])}`]: rng.int(3) }),
    () => {
      const op = rng.pick(["_gt", "_lt", "_in", "_not_in"]);
      return { [`postedAt${op}`]: op.endsWith("in") ? [1003, 1007] : 1000 + rng.int(15) };
    },
    () => {
      const op = rng.pick([
        "_contains",
        "_not_contains",
        "_starts_with",
        "_not_starts_with",
        "_ends_with",
        "_not_ends_with",
        "_contains_nocase",
        "_starts_with_nocase",
        "_not_ends_with_nocase",
        "_gt",
      ]);
      return { [`inputsURI${op}`]: rng.pick(["Job1", "job", "ipfs://J", "2", "B12", ""]) };
    },
    () => ({
      [`outputs${rng.pick(["_contains", "_not_contains", "_contains_nocase", "", "_not"])}`]: rng.pick([
        ["1"],
        [String(job.id)],
        ["1", "9"],
        [],
      ]),
    }),
  ];
  const one = () => rng.pick(clauses)();
  const shape = rng.int(4);
  if (shape === 0) return { ...one(), ...one() };
  if (shape === 1) return { or: [one(), one()] };
  if (shape === 2) return { and: [one(), { or: [one(), one()] }] };
  return one();
}

/**
 * Twelve jobs: Claimed, Proved, Open in turn from job 1 (the Proved ones, 2, 5, 8 and 11, on circuit "multiplier",
 * with outputs ["1", id]; the rest on "poseidon"), odd ones Alice's and even ones Bob's, fees 100 × id, posted at
 * block id (job 12 at 50), claimed at 20 + id and proved at 30 + id; job 4 claimed, reassigned and claimed again
 * at 44 to 46; two provers; an indexer checkpoint at block 60 of market 0x5fbd….
 */
