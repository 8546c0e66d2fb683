/**
 * Compiled query documents (coordinator/graphql/compiledQueries.ts): a query asked for again is executed by code
 * graphql-jit compiled from it, and its answer must be graphql-js's, byte for byte, with the same reads recorded for
 * the response cache; what may not be compiled (input-object variables, directives) is still answered, by graphql-js.
 */
import { expect } from "chai";
import { buildSchema, parse } from "graphql";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { createQueryCompiler, MAX_COMPILED_FIELDS, notCompiled } from "../../coordinator/graphql/compiledQueries.ts";
import { ReadSet } from "../../coordinator/graphql/reads.ts";
import { coordinatorTypeDefs, createGraphQL } from "../../coordinator/graphql/yoga.ts";
import { clientDocuments, readmeDocuments } from "../helpers/graphqlDocuments.ts";
import { ALICE, BOB, seed } from "../helpers/theGraphRows.ts";

const SCHEMA = buildSchema(coordinatorTypeDefs());

type Request = { query: string; variables?: Record<string, unknown>; operationName?: string };

const JOB = "id status requester maxFee lockedPrice assignee postedAt currentPrice attempt outputs";
/** Queries that reach every kind of field and argument the coordinator serves, with scalar and enum variables. */
const QUERIES: Request[] = [
  {
    query: `query($id: ID!) { job(id: $id) { ${JOB} circuit { id name } events { id kind price prover } } }`,
    variables: { id: "4" },
  },
  { query: `query($id: ID!) { job(id: $id) { id } }`, variables: { id: "999" } },
  {
    query: `query($s: JobStatus, $t: Int) { jobs(where: { status: $s, postedAt_lt: $t }, orderBy: postedAt, orderDirection: desc, first: 5) { ${JOB} } }`,
    variables: { s: "Claimed", t: 1011 },
  },
  {
    query: `query($r: Bytes) { jobs(where: { requester: $r }, orderBy: maxFee, skip: 1) { id maxFee } }`,
    variables: { r: ALICE.toUpperCase().replace("0X", "0x") },
  },
  {
    query: `query($fee: BigInt, $ids: [ID!]) { jobs(where: { maxFee_gt: $fee, id_in: $ids }) { id maxFee } }`,
    variables: { fee: "300", ids: ["2", "5", "9", "10", "12"] },
  },
  {
    query: `{ jobs(where: { or: [{ status: Open }, { and: [{ maxFee_gte: "900" }, { circuit_: { name: "poseidon" } }] }] }, orderBy: id) { id status circuit { id } } }`,
  },
  {
    query: `query Page($s: JobStatus, $after: String) { jobsPage(where: { status: $s }, first: 2, after: $after) { nodes { ...J } pageInfo { hasNextPage endCursor } } } fragment J on Job { id maxFee ... on Job { status } }`,
    variables: { s: "Proved", after: null },
    operationName: "Page",
  },
  {
    query: `query A { a: jobs(first: 2) { id } b: jobs(first: 2, skip: 2) { key: id __typename } } query B { provers { id staked } }`,
    operationName: "B",
  },
  {
    query: `query A { a: jobs(first: 2) { id } b: jobs(first: 2, skip: 2) { key: id __typename } } query B { provers { id staked } }`,
    operationName: "A",
  },
  {
    query: `query($p: Bytes) { jobEvents(where: { prover: $p }, orderBy: blockNumber) { id kind job { id } } }`,
    variables: { p: BOB },
  },
  { query: `{ circuits(orderBy: name) { id name system recentLockedPrices medianLockedPrice } }` },
  {
    query: `{ marketStats(id: "market") { id open claimed proved feesPaid escrowed medianTimeToProof } _meta { block { number } } }`,
  },
  { query: `{ job(id: "4") { events(first: 2, orderBy: blockNumber, orderDirection: desc) { id kind } } }` },
];

for (const provider of PROVIDERS) {
  describe(`coordinator GraphQL compiled queries (${provider})`, function () {
    let scratch: ScratchDatabase;
    let database: Awaited<ReturnType<typeof openDatabase>>;

    before(async function () {
      scratch = await scratchDatabase(provider);
      await migrate(scratch.url);
      database = await openDatabase(scratch.url);
      await seed(database.db);
    });
    after(async function () {
      await database?.close();
      await scratch?.drop();
    });

    /** Asks the direct executor; the reads it recorded, as plain data to compare. */
    const ask = async (api: ReturnType<typeof createGraphQL>, request: Request) => {
      const reads = new ReadSet();
      const text = await api.executeQuery(JSON.stringify(request), reads);
      return { text, reads: JSON.parse(JSON.stringify(reads, (_, v) => (v instanceof Set ? [...v].sort() : v))) };
    };

    it("answers every query, the README's and the clients' too, compiled as graphql-js does, reading the same", async function () {
      const api = createGraphQL(database.db);
      const found = [...readmeDocuments(), ...clientDocuments()]
        .filter((d) => d.document.definitions.some((x) => x.kind === "OperationDefinition" && x.operation === "query"))
        .map((d) => ({ query: d.text, variables: { id: "1", status: "Open", after: null } }));
      const requests = [...QUERIES, ...found];
      let compiled = 0;
      for (const request of requests) {
        const first = await ask(api, request);
        expect(first.text, `${request.query}: answered directly`).to.not.equal(null);
        expect(JSON.parse(first.text!).data, request.query).to.not.equal(undefined);
        const again = await ask(api, request);
        if (notCompiled(SCHEMA, parse(request.query)) === null) compiled++;
        expect(again, request.query).to.deep.equal(first);
      }
      // The hand-written ones all compile; so does most of what the README and the clients send.
      expect(api.compiledQueries().compiled).to.equal(compiled).and.to.be.at.least(QUERIES.length);
      expect(api.compiledQueries().notCompiled).to.equal(0);
    });

    it("compiles a document from its second asking, and then answers other variables with it", async function () {
      const api = createGraphQL(database.db);
      const query = `query($s: JobStatus) { jobs(where: { status: $s }) { id status } }`;
      const reference = createGraphQL(database.db);
      const once = await ask(api, { query, variables: { s: "Open" } });
      expect(api.compiledQueries().compiled).to.equal(0);
      for (const s of ["Open", "Claimed", "Proved", null]) {
        const got = await ask(api, { query, variables: { s } });
        expect(got).to.deep.equal(await ask(reference, { query, variables: { s } }));
      }
      expect(once.text).to.include(`"status":"Open"`);
      expect(api.compiledQueries()).to.include({ compiled: 1, notCompiled: 0, kept: 1 });
    });

    it("leaves to graphql-js a document whose variables are filters, or that has directives, and answers it", async function () {
      const api = createGraphQL(database.db);
      const reference = createGraphQL(database.db);
      const cases: Request[] = [
        // graphql-jit unrolls an input-object variable's type, and the filters nest each other without end.
        {
          query: `query($w: Job_filter) { jobs(where: $w, orderBy: id) { id } }`,
          variables: { w: { status: "Proved" } },
        },
        {
          query: `query($w: Circuit_filter) { circuits(where: $w) { id } }`,
          variables: { w: { jobs_: { status: "Open" } } },
        },
        {
          query: `query($full: Boolean!) { jobs(first: 3) { id ...F @include(if: $full) } } fragment F on Job { maxFee }`,
          variables: { full: false },
        },
      ];
      for (const request of cases)
        for (let asked = 0; asked < 3; asked++)
          expect(await ask(api, request), request.query).to.deep.equal(await ask(reference, request));
      expect(api.compiledQueries()).to.include({ compiled: 0, notCompiled: 3 });
      expect(JSON.parse((await ask(api, cases[0])).text!).data.jobs).to.deep.equal([
        { id: "11" },
        { id: "2" },
        { id: "5" },
        { id: "8" },
      ]);
    });

    it("gives a compiled query's error to yoga (null here), as graphql-js's", async function () {
      const api = createGraphQL(database.db);
      const query = `query($c: ID, $n: Int) { jobsPage(where: { circuitId: $c }, first: $n) { nodes { id } } }`;
      expect((await ask(api, { query, variables: { c: "1", n: 2 } })).text).to.not.equal(null);
      expect((await ask(api, { query, variables: { c: "1", n: 2 } })).text).to.not.equal(null);
      expect(api.compiledQueries().compiled).to.equal(1);
      for (const variables of [
        { c: "abc", n: 2 },
        { c: "1", n: "two" },
        { c: "1", n: 5000 },
      ])
        expect((await ask(api, { query, variables })).text, JSON.stringify(variables)).to.equal(null);
    });
  });
}

describe("which documents are compiled", function () {
  it("names why one is not", function () {
    const reason = (text: string) => notCompiled(SCHEMA, parse(text));
    expect(reason(`query($s: JobStatus, $ids: [ID!]!, $fee: BigInt) { jobs { id } }`)).to.equal(null);
    expect(reason(`{ jobs(where: { circuit_: { jobs_: { status: Open } } }) { id } }`)).to.equal(null);
    expect(reason(`query($w: [Job_filter!]) { jobs { id } }`)).to.equal("variable $w is an input object");
    expect(reason(`query($b: Block_height) { jobs(block: $b) { id } }`)).to.equal("variable $b is an input object");
    expect(reason(`{ jobs { id @skip(if: true) } }`)).to.equal("it has the directive @skip");
    // Compiling takes about 20 µs a field on the event loop: a wide document is executed as it comes.
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}: id`).join(" ");
    expect(reason(`{ jobs { ${fields(MAX_COMPILED_FIELDS - 1)} } }`)).to.equal(null);
    expect(reason(`{ jobs { ${fields(MAX_COMPILED_FIELDS)} } }`)).to.equal(
      `it selects more than ${MAX_COMPILED_FIELDS} fields`,
    );
    // A fragment counts where it is spread: 1 + 11 × 18 fields, then 1 + 11 × 19.
    const spreads = Array.from({ length: 11 }, () => "...F").join(" ");
    expect(reason(`{ jobs { ${spreads} } } fragment F on Job { ${fields(18)} }`)).to.equal(null);
    expect(reason(`{ jobs { ${spreads} } } fragment F on Job { ${fields(19)} }`)).to.match(/more than/);
  });

  it("keeps the most recently asked documents compiled, and compiles a dropped one again when it is asked", function () {
    const compiledOf = createQueryCompiler(SCHEMA, { compileFrom: 1, kept: 2 });
    const [a, b, c] = ["a", "b", "c"].map((alias) => parse(`{ ${alias}: jobs { id } }`));
    const first = compiledOf(a, undefined);
    expect(first).to.not.equal(undefined);
    expect(compiledOf(a, undefined), "kept").to.equal(first);
    compiledOf(b, undefined);
    compiledOf(a, undefined); // a is now the most recently asked: b goes first
    compiledOf(c, undefined);
    expect(compiledOf.stats()).to.deep.equal({ compiled: 3, notCompiled: 0, kept: 2 });
    expect(compiledOf(a, undefined), "a was kept").to.equal(first);
    compiledOf(b, undefined);
    expect(compiledOf.stats()).to.deep.equal({ compiled: 4, notCompiled: 0, kept: 2 });
  });

  it("compiles nothing before a document's second asking", function () {
    const compiledOf = createQueryCompiler(SCHEMA);
    const document = parse(`{ jobs { id } }`);
    expect(compiledOf(document, undefined)).to.equal(undefined);
    expect(compiledOf(document, undefined)).to.not.equal(undefined);
    expect(compiledOf.stats()).to.deep.equal({ compiled: 1, notCompiled: 0, kept: 1 });
  });
});
