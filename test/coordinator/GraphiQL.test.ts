/**
 * GraphiQL as a newcomer meets it, and the introspection it needs: the coordinator's page works in a browser with
 * the network closed (its documentation explorer lists the schema's queries, a query runs), the standard
 * introspection query is answered over HTTP, and the depth and cost limits still refuse what they refused, with
 * introspection beside a query or deep inside `__type` held to its own budget.
 */
import { expect } from "chai";
import { buildSchema, getIntrospectionQuery, type OperationDefinitionNode, parse, print } from "graphql";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { createResponseCache } from "../../coordinator/graphql/responseCache.ts";
import {
  coordinatorTypeDefs,
  createGraphQL,
  INTROSPECTION_MAX_COST,
  INTROSPECTION_MAX_DEPTH,
  MAX_COST,
  MAX_DEPTH,
} from "../../coordinator/graphql/yoga.ts";
import { buildHttpApp } from "../../coordinator/http/server.ts";
import { checkGraphiQL } from "../helpers/graphiql.ts";
import { testCircuit, testJob } from "../../dev/coordinatorRows.ts";

type Answer = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };

const SCHEMA = buildSchema(coordinatorTypeDefs());
const ALL_OPTIONS = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
};

describe("coordinator GraphiQL and introspection", function () {
  let scratch: ScratchDatabase;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  let server: Server;
  let graphqlUrl: string;
  const responseCache = createResponseCache();

  before(async function () {
    scratch = await scratchDatabase("sqlite");
    await migrate(scratch.url);
    database = await openDatabase(scratch.url);
    const { db } = database;
    await db.circuit.create({ data: testCircuit(1, "poseidon_preimage/groth16") });
    for (const [i, status] of ["Open", "Claimed", "Proved"].entries())
      await db.job.create({
        data: testJob({
          id: String(i + 1),
          circuitId: 1,
          requester: "0xrequester",
          status,
          maxFee: String((i + 1) * 1000),
          assignee: status === "Open" ? null : "0xprover",
          postedAtBlock: i + 1,
          postedAt: 1000 + i,
        }),
      });
    // With the response cache, as the coordinator runs: introspection answers go through it too.
    await new Promise<void>((resolve) => {
      server = buildHttpApp({ db, responseCache }).listen(0, "127.0.0.1", () => resolve());
    });
    graphqlUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  });

  after(async function () {
    server?.close();
    await database?.close();
    await scratch?.drop();
  });

  async function query(text: string): Promise<Answer> {
    const response = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: text }),
    });
    return (await response.json()) as Answer;
  }

  it("serves GraphiQL that works with the network closed: explorer, editor and result", async function () {
    this.timeout(240_000);
    const jobsQuery = "{ jobs(first: 10, orderBy: postedAt, orderDirection: desc) { id status maxFee lockedPrice } }";
    const check = await checkGraphiQL({
      url: graphqlUrl,
      query: jobsQuery,
      screenshot: "test-artifacts/graphiql-coordinator.png",
    });
    expect(check.externalRequests).to.deep.equal([]);
    expect(check.queryFields).to.have.members(Object.keys(SCHEMA.getQueryType()!.getFields()));
    const shown = JSON.parse(check.result) as Answer;
    expect(shown).to.deep.equal(await query(jobsQuery));
    expect(shown.data.jobs.map((job: { id: string }) => job.id)).to.deep.equal(["3", "2", "1"]);
    expect(readFileSync(check.screenshot).subarray(1, 4).toString()).to.equal("PNG");
  });

  it("answers the standard introspection query, with every option on, kept by the response cache", async function () {
    const fields = Object.keys(SCHEMA.getQueryType()!.getFields());
    for (const text of [getIntrospectionQuery(), getIntrospectionQuery(ALL_OPTIONS)]) {
      const { data, errors } = await query(text);
      expect(errors).to.equal(undefined);
      const queryType = data.__schema.types.find((type: { name: string }) => type.name === "Query");
      expect(queryType.fields.map((field: { name: string }) => field.name)).to.have.members(fields);
    }
    // The schema does not change while the coordinator runs, so a kept introspection answer stays right; a
    // rewind (every answer dropped) makes it computed again, the same. An answer is kept from its query's second
    // asking (responseCache.ts): the loop above asked it once.
    await query(getIntrospectionQuery(ALL_OPTIONS));
    const { hits } = responseCache.stats();
    const kept = await query(getIntrospectionQuery(ALL_OPTIONS));
    expect(responseCache.stats().hits).to.equal(hits + 1);
    responseCache.invalidate();
    expect(await query(getIntrospectionQuery(ALL_OPTIONS))).to.deep.equal(kept);
    expect(responseCache.stats().hits).to.equal(hits + 1);
  });

  it("holds data fields beside introspection to the data limits, with the same errors as alone", async function () {
    // jobEvent > job > events > job > events > job > events > job > id: one level past the limit (and within the cost).
    const deep = 'jobEvent(id: "1") { job { events { job { events { job { events { job { id } } } } } } } }';
    const depthError = `query depth ${MAX_DEPTH + 1} exceeds the limit of ${MAX_DEPTH}`;
    expect((await query(`{ ${deep} }`)).errors!.map((e) => e.message)).to.deep.equal([depthError]);
    expect((await query(`{ __schema { queryType { name } } ${deep} }`)).errors!.map((e) => e.message)).to.deep.equal([
      depthError,
    ]);

    const costly = "jobs(first: 100) { events { id job { events { id } } } }";
    const alone = await query(`{ ${costly} }`);
    expect(alone.errors![0].message).to.match(new RegExp(`^query cost \\d+ exceeds the limit of ${MAX_COST}:`));
    expect(alone.errors![0].extensions!.code).to.equal("QUERY_TOO_COSTLY");
    // Next to the whole introspection query, through a fragment on Query, still refused at the same price.
    const mixed = getIntrospectionQuery().replace("__schema {", "...Costly __schema {");
    const refused = await query(`${mixed} fragment Costly on Query { ${costly} }`);
    expect(refused.errors!.map((e) => e.message)).to.deep.equal([alone.errors![0].message]);
  });

  it("refuses introspection that runs deep or repeats the schema's lists", async function () {
    const ofTypes = (n: number): string => (n === 0 ? "name" : `ofType { ${ofTypes(n - 1)} }`);
    // __type > fields > type > ofType…: 3 levels above the chain of ofType.
    const chain = await query(`{ __type(name: "Job") { fields { type { ${ofTypes(INTROSPECTION_MAX_DEPTH)} } } } }`);
    expect(chain.errors!.map((e) => e.message)).to.deep.equal([
      `introspection depth ${INTROSPECTION_MAX_DEPTH + 4} exceeds the limit of ${INTROSPECTION_MAX_DEPTH}`,
    ]);

    // The whole schema asked for twice in one query is priced as twice the standard query: over the budget.
    const standard = parse(getIntrospectionQuery(ALL_OPTIONS));
    const operation = standard.definitions[0] as OperationDefinitionNode;
    const schemaField = operation.selectionSet.selections[0];
    const twice = print({
      ...standard,
      definitions: [
        {
          ...operation,
          selectionSet: {
            ...operation.selectionSet,
            selections: ["first", "second"].map((alias) => ({
              ...schemaField,
              alias: { kind: "Name", value: alias },
            })) as never,
          },
        },
        ...standard.definitions.slice(1),
      ],
    });
    const repeated = await query(twice);
    expect(repeated.errors!.map((e) => e.message)).to.have.length(1);
    expect(repeated.errors![0].message).to.match(
      new RegExp(`^introspection cost \\d+ exceeds the limit of ${INTROSPECTION_MAX_COST}:`),
    );
    expect(repeated.errors![0].extensions!.code).to.equal("QUERY_TOO_COSTLY");

    // Lists of fields nested in each other: under the schema's types, the introspection budget refuses them first
    // (graphql's own rules are not run on a document the limits refuse); under one type, within the budget,
    // graphql's own rule against them stays on.
    const nested = await query("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }");
    expect(nested.errors!.map((e) => e.extensions!.code)).to.deep.equal(["QUERY_TOO_COSTLY"]);
    const nestedInOne = await query(
      '{ __type(name: "Job") { fields { type { fields { type { fields { name } } } } } } }',
    );
    expect(nestedInOne.errors!.map((e) => e.message)).to.include("Maximum introspection depth exceeded");
  });

  it("measures fragments once each: one that spreads itself, or a chain that doubles, is refused at once", async function () {
    const loop = await query("{ ...Loop } fragment Loop on Query { circuits { id } ...Loop }");
    expect(loop.errors!.map((e) => e.message)).to.deep.equal(['Cannot spread fragment "Loop" within itself.']);

    // Each fragment spreads the one before twice: 2^40 fields if expanded, forty fragments if each is priced once.
    const chain = ["fragment F0 on Query { __typename }"];
    for (let i = 1; i <= 40; i++) chain.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
    const doubled = await query(`{ ...F40 } ${chain.join(" ")}`);
    expect(doubled.errors!.map((e) => e.message)).to.deep.equal([
      `query cost ${2 ** 40} exceeds the limit of ${MAX_COST}: ask for smaller pages (first) or fewer nested lists`,
    ]);
  });

  it("serves no GraphiQL in production", async function () {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      const yoga = createGraphQL(database.db);
      const page = await yoga.fetch("http://localhost/graphql", { headers: { accept: "text/html" } });
      expect(page.headers.get("content-type")).to.not.match(/text\/html/);
    } finally {
      process.env.NODE_ENV = before;
    }
  });
});
