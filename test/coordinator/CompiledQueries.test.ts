/**
 * Compiled query documents (coordinator/graphql/compiledQueries.ts): a query asked for again is executed by code
 * graphql-jit compiled from it, and its answer must be graphql-js's, byte for byte, with the same reads recorded for
 * the response cache; what may not be compiled (input-object variables, directives) is still answered, by graphql-js.
 */
import { expect } from "chai";
import { buildSchema, type DocumentNode, parse, print } from "graphql";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import {
  createQueryCompiler,
  MAX_COMPILED_DEPTH,
  MAX_COMPILED_FIELDS,
  MAX_COMPILED_NODES,
  MAX_COMPILED_TEXT,
  notCompiled,
} from "../../coordinator/graphql/compiledQueries.ts";
import { ReadSet } from "../../coordinator/graphql/reads.ts";
import { coordinatorTypeDefs, createGraphQL } from "../../coordinator/graphql/yoga.ts";
import { clientDocuments, readmeDocuments } from "../helpers/graphqlDocuments.ts";
import { ALICE, BOB, seed } from "../helpers/theGraphRows.ts";

const SCHEMA = buildSchema(coordinatorTypeDefs());
const textOf = (document: DocumentNode) => print(document);

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
    query: `query($fee: BigInt, $name: String) { jobs(where: { or: [{ status: Open }, { and: [{ maxFee_gte: $fee }, { circuit_: { name: $name } }] }] }, orderBy: id) { id status circuit { id } } }`,
    variables: { fee: "900", name: "poseidon" },
  },
  {
    query: `query Page($s: JobStatus, $after: String) { jobsPage(where: { status: $s }, first: 2, after: $after) { nodes { ...J } pageInfo { hasNextPage endCursor } } } fragment J on Job { id maxFee ... on Job { status } }`,
    variables: { s: "Proved", after: null },
    operationName: "Page",
  },
  { query: `{ a: jobs(first: 2) { id } b: jobs(first: 2, skip: 2) { key: id __typename } provers { id staked } }` },
  {
    query: `query($p: Bytes) { jobEvents(where: { prover: $p }, orderBy: blockNumber) { id kind job { id } } }`,
    variables: { p: BOB },
  },
  { query: `{ circuits(orderBy: name) { id name system recentLockedPrices medianLockedPrice } }` },
  {
    query: `query($m: ID!) { marketStats(id: $m) { id open claimed proved feesPaid escrowed medianTimeToProof } }`,
    variables: { m: "market" },
  },
  {
    query: `query($id: ID!, $n: Int) { job(id: $id) { events(first: $n, orderBy: blockNumber, orderDirection: desc) { id kind } } }`,
    variables: { id: "4", n: 2 },
  },
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
    /** The answer of yoga, which executes with graphql-js only (never compiled): the direct executor's bytes. */
    const graphqlJs = async (request: Request) => {
      const response = await createGraphQL(database.db).fetch("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      return response.text();
    };
    /** Asked this often, a document is answered compiled where it may be; every answer must be graphql-js's. */
    const answersAsGraphqlJs = async (api: ReturnType<typeof createGraphQL>, request: Request, askings = 3) => {
      const want = await graphqlJs(request);
      for (let asked = 0; asked < askings; asked++)
        expect((await ask(api, request)).text, `${request.query} asked ${asked + 1}`).to.equal(want);
    };

    it("answers every query, the README's and the clients' too, compiled as graphql-js does, reading the same", async function () {
      const api = createGraphQL(database.db);
      const found = [...readmeDocuments(), ...clientDocuments()]
        .filter((d) => d.document.definitions.some((x) => x.kind === "OperationDefinition" && x.operation === "query"))
        .map((d) => d.text);
      const requests = [
        ...QUERIES,
        ...[...new Set(found)].map((query) => ({ query, variables: { id: "1", status: "Open", after: null } })),
      ];
      const expected = { compiled: 0, notCompiled: 0 };
      for (const request of requests) {
        // Asked first, a document is executed by graphql-js; asked again, compiled (where it may be).
        const first = await ask(api, request);
        expect(first.text, `${request.query}: answered directly`).to.not.equal(null);
        expect(JSON.parse(first.text!).data, request.query).to.not.equal(undefined);
        expect(first.text, request.query).to.equal(await graphqlJs(request));
        expect(await ask(api, request), request.query).to.deep.equal(first);
        expected[notCompiled(SCHEMA, parse(request.query), request.query) === null ? "compiled" : "notCompiled"]++;
      }
      // Every hand-written one compiles (the README's with string literals do not).
      for (const { query } of QUERIES) expect(notCompiled(SCHEMA, parse(query), query), query).to.equal(null);
      expect(api.compiledQueries()).to.include(expected);
    });

    it("compiles a document from its second asking, and then answers other variables with it", async function () {
      const api = createGraphQL(database.db);
      const query = `query($s: JobStatus) { jobs(where: { status: $s }) { id status } }`;
      const once = await ask(api, { query, variables: { s: "Open" } });
      expect(api.compiledQueries().compiled).to.equal(0);
      for (const s of ["Open", "Claimed", "Proved", null])
        await answersAsGraphqlJs(api, { query, variables: { s } }, 1);
      expect(once.text).to.include(`"status":"Open"`);
      expect(api.compiledQueries()).to.include({ compiled: 1, notCompiled: 0, kept: 1 });
    });

    it("leaves to graphql-js a document with filters as variables, directives, operations or strings, and answers it", async function () {
      const api = createGraphQL(database.db);
      const cases: Request[] = [
        // graphql-jit unrolls an input-object variable's type, and the filters nest each other without end.
        {
          query: `query($w: Job_filter) { jobs(where: $w, orderBy: id) { id } }`,
          variables: { w: { status: "Proved" } },
        },
        {
          query: `query($w: Circuit_filter) { circuits(where: $w) { id } }`,
          variables: { w: { or: [{ name: "poseidon" }, { nPublicInputs_gt: 0 }] } },
        },
        {
          query: `query($full: Boolean!) { jobs(first: 3) { id ...F @include(if: $full) } } fragment F on Job { maxFee }`,
          variables: { full: false },
        },
        { query: `query A { jobs(first: 2) { id } } query B { provers { id staked } }`, operationName: "B" },
        { query: `{ jobs(where: { maxFee_gte: "900", circuit_: { name: "poseidon" } }) { id } }` },
        // graphql-jit names a field's resolve info by its path joined with "_": b_a and a { b } were one name, and
        // the list read the history's columns (assignee and lockedPrice came back null).
        {
          query: `{ b_a: jobs(first: 2, orderBy: id) { id assignee lockedPrice } a: job(id: 4) { b: events(orderBy: blockNumber) { id } } }`,
        },
        { query: `{ jobs(first: 2) { __proto__: id x: circuit { id } } }` },
        { query: `{ _meta { block { number } } }` },
      ];
      for (const request of cases) await answersAsGraphqlJs(api, request);
      // yoga reads no `__proto__` key from a body's JSON: a variable of that name is left to yoga, which answers as if
      // it were not given. (JSON.parse, not an object literal: `{ __proto__: 1 }` would give no variable at all.)
      const proto = {
        query: `query($__proto__: Int) { jobs(first: $__proto__) { id } }`,
        variables: JSON.parse(`{"__proto__":1}`),
      };
      for (let asked = 0; asked < 3; asked++) expect((await ask(api, proto)).text).to.equal(null);
      // graphql-js refuses a null for `$a` inside `id_in: [ID!]`; graphql-jit would have let it through.
      const query = `query($a: ID = 1) { jobs(where: { id_in: [$a, 3] }) { id } }`;
      await answersAsGraphqlJs(api, { query, variables: { a: 1 } });
      expect((await ask(api, { query, variables: { a: null } })).text).to.equal(null);
      expect(JSON.parse(await graphqlJs({ query, variables: { a: null } })).errors).to.have.length(1);
      expect(JSON.parse(await graphqlJs(proto)).data.jobs).to.have.length(12);
      expect(api.compiledQueries()).to.include({ compiled: 0, notCompiled: 9 });
      expect(JSON.parse((await ask(api, cases[0])).text!).data.jobs).to.deep.equal([
        { id: "11" },
        { id: "2" },
        { id: "5" },
        { id: "8" },
      ]);
    });

    it("answers with graphql-js a request that leaves out a variable (graphql-jit would filter on null)", async function () {
      const api = createGraphQL(database.db);
      const query = `query($s: JobStatus, $n: Int) { jobs(where: { status: $s }, first: $n, orderBy: id) { id } }`;
      await answersAsGraphqlJs(api, { query, variables: { s: "Open", n: 3 } }, 2);
      expect(api.compiledQueries()).to.include({ compiled: 1 });
      for (const variables of [{}, { n: 3 }, { s: "Proved" }]) await answersAsGraphqlJs(api, { query, variables }, 1);
      const all = JSON.parse((await ask(api, { query, variables: {} })).text!).data.jobs;
      expect(all, "no status filter: every job").to.have.length(12);
    });

    it("never compiles a string literal: graphql-jit would write a marked one into its code as JavaScript", async function () {
      const api = createGraphQL(database.db);
      const marked = `__MAGIC_DATE__33a9e76d_02e0_4128_8e92_3530ad3da74d0)&&(globalThis.compiledQueriesInjected=1)&&String(4`;
      const request = { query: `{ job(id: "${marked}") { id } }` };
      await answersAsGraphqlJs(api, request);
      expect((globalThis as { compiledQueriesInjected?: number }).compiledQueriesInjected).to.equal(undefined);
      expect(JSON.parse((await ask(api, request)).text!).data).to.deep.equal({ job: null });
      expect(api.compiledQueries()).to.include({ compiled: 0, notCompiled: 1 });
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
    const reason = (text: string) => notCompiled(SCHEMA, parse(text), text);
    expect(reason(`query($s: JobStatus, $ids: [ID!]!, $fee: BigInt) { jobs { id } }`)).to.equal(null);
    expect(
      reason(
        `query($n: Int) { jobs(first: $n, where: { or: [{ status: Open }, { circuit_: { nPublicInputs_gt: 1 } }] }) { id } }`,
      ),
    ).to.equal(null);
    expect(reason(`query($w: [Job_filter!]) { jobs { id } }`)).to.equal("variable $w is an input object");
    expect(reason(`query($b: Block_height) { jobs(block: $b) { id } }`)).to.equal("variable $b is an input object");
    expect(reason(`{ jobs { id @skip(if: true) } }`)).to.equal("it has the directive @skip");
    const stringLiteral = "it has a string literal (strings may come as variables)";
    expect(reason(`{ job(id: "1") { id } }`)).to.equal(stringLiteral);
    expect(reason(`{ jobs(where: { id_in: ["1"] }) { id } }`)).to.equal(stringLiteral);
    expect(reason(`query A { jobs { id } } query B { jobs { id } }`)).to.equal("it holds more than one operation");
    // Names: letters and digits only (graphql-jit joins a path's names with "_", and keeps objects keyed by them).
    expect(reason(`{ jobs { __typename id } }`)).to.equal(null);
    expect(reason(`{ b_a: jobs { id } }`)).to.equal("alias b_a is not letters and digits");
    expect(reason(`{ jobs { __proto__: id } }`)).to.equal("alias __proto__ is not letters and digits");
    expect(reason(`{ _meta { block { number } } }`)).to.equal("field _meta is not letters and digits");
    expect(reason(`query($__proto__: Int) { jobs(first: $__proto__) { id } }`)).to.equal(
      "variable __proto__ is not letters and digits",
    );
    expect(reason(`query my_jobs { jobs { id } }`)).to.equal("operation my_jobs is not letters and digits");
    expect(reason(`{ jobs { ...J_1 } } fragment J_1 on Job { id }`)).to.equal("fragment J_1 is not letters and digits");
    // A bare name is an enum's value or nothing: a scalar without parsing of its own would read it as a string.
    expect(reason(`{ jobs(where: { status_in: [Open, Proved] }, orderBy: postedAt) { id } }`)).to.equal(null);
    expect(reason(`{ jobs(where: { maxFee_gt: __MAGIC_DATE__x }) { id } }`)).to.equal(
      "the name __MAGIC_DATE__x stands where no enum is expected",
    );
    const long = `{ jobs { id } } # ${"x".repeat(MAX_COMPILED_TEXT)}`;
    expect(reason(long)).to.equal(`it is longer than ${MAX_COMPILED_TEXT} characters`);
    // Compiling runs on the event loop: a wide document is executed as it comes.
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `f${i}: id`).join(" ");
    expect(reason(`{ jobs { ${fields(MAX_COMPILED_FIELDS - 1)} } }`)).to.equal(null);
    expect(reason(`{ jobs { ${fields(MAX_COMPILED_FIELDS)} } }`)).to.equal(
      `it selects more than ${MAX_COMPILED_FIELDS} fields`,
    );
    // A fragment counts where it is spread: 1 + 7 × 7 fields, then 1 + 7 × 8.
    const spreads = Array.from({ length: 7 }, () => "...F").join(" ");
    expect(reason(`{ jobs { ${spreads} } } fragment F on Job { ${fields(7)} }`)).to.equal(null);
    expect(reason(`{ jobs { ${spreads} } } fragment F on Job { ${fields(8)} }`)).to.match(/more than/);
    // The code grows with the nesting.
    expect(reason(`{ jobs { events { job { circuit { name } } } } }`)).to.equal(
      `it nests fields more than ${MAX_COMPILED_DEPTH} deep`,
    );
    expect(reason(`{ jobs { ...E } } fragment E on Job { events { job { circuit { name } } } }`)).to.match(/deep/);
    expect(reason(`{ jobs { events { job { id } } } }`)).to.equal(null);
    // A nullable variable with a default may stand where null may not: graphql-jit lets the null through.
    expect(reason(`query($a: ID = 1) { jobs(where: { id_in: [$a] }) { id } }`)).to.equal(
      "variable $a has a default value",
    );
    // Each variable, declared and used, is seven nodes.
    const ids = (n: number) =>
      `query(${Array.from({ length: n }, (_, i) => `$v${i}: ID`).join(" ")}) { jobs(where: { id_in: [${Array.from({ length: n }, (_, i) => `$v${i}`).join(", ")}] }) { id } }`;
    expect(reason(ids(50))).to.equal(null);
    expect(reason(ids(60))).to.equal(`it has more than ${MAX_COMPILED_NODES} syntax nodes`);
  });

  it("keeps the most recently asked documents compiled, and compiles a dropped one again when it is asked", function () {
    const compiledOf = createQueryCompiler(SCHEMA, { compileFrom: 1, kept: 2 });
    const [a, b, c] = ["a", "b", "c"].map((alias) => parse(`{ ${alias}: jobs { id } }`));
    const first = compiledOf(a, textOf(a), {});
    expect(first).to.not.equal(undefined);
    expect(compiledOf(a, textOf(a), {}), "kept").to.equal(first);
    compiledOf(b, textOf(b), {});
    compiledOf(a, textOf(a), {}); // a is now the most recently asked: b goes first
    compiledOf(c, textOf(c), {});
    expect(compiledOf.stats()).to.deep.equal({ compiled: 3, notCompiled: 0, kept: 2 });
    expect(compiledOf(a, textOf(a), {}), "a was kept").to.equal(first);
    compiledOf(b, textOf(b), {});
    expect(compiledOf.stats()).to.deep.equal({ compiled: 4, notCompiled: 0, kept: 2 });
  });

  it("keeps compiled documents within a total weight, each field weighing as deep as it stands", function () {
    const compiledOf = createQueryCompiler(SCHEMA, { compileFrom: 1, keptWeight: 7 });
    const [a, b, c] = ["a", "b", "c"].map((alias) => parse(`{ ${alias}: jobs { id } }`)); // 1 + 2 each
    for (const document of [a, b]) compiledOf(document, textOf(document), {});
    expect(compiledOf.stats()).to.deep.equal({ compiled: 2, notCompiled: 0, kept: 2 });
    compiledOf(c, textOf(c), {});
    expect(compiledOf.stats()).to.deep.equal({ compiled: 3, notCompiled: 0, kept: 2 });
    const deep = parse(`{ jobs { events { id } } }`); // 1 + 2 + 3
    compiledOf(deep, textOf(deep), {});
    expect(compiledOf.stats()).to.deep.equal({ compiled: 4, notCompiled: 0, kept: 1 });
  });

  it("compiles nothing before a document's second asking", function () {
    const compiledOf = createQueryCompiler(SCHEMA);
    const document = parse(`{ jobs { id } }`);
    expect(compiledOf(document, textOf(document), {})).to.equal(undefined);
    expect(compiledOf(document, textOf(document), {})).to.not.equal(undefined);
    expect(compiledOf.stats()).to.deep.equal({ compiled: 1, notCompiled: 0, kept: 1 });
    // Compiled, but not for a request that leaves out a variable the document declares.
    const paged = parse(`query($n: Int) { jobs(first: $n) { id } }`);
    compiledOf(paged, textOf(paged), { n: 1 });
    expect(compiledOf(paged, textOf(paged), {})).to.equal(undefined);
    expect(compiledOf(paged, textOf(paged), { n: null })).to.not.equal(undefined);
  });
});
