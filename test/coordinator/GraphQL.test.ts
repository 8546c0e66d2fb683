/**
 * The GraphQL API over a real (SQLite) database, through yoga.fetch without a listener: filters, cursor
 * pagination and ordering, a job's history, market stats (with the auction's savings), a job's current price at
 * the head the indexer has seen, a circuit's recent locked prices and their median, and the limits (page size,
 * query depth) with errors a client can act on. (Indexer.test.ts checks GraphQL over events of real jobs on a real
 * chain.)
 */
import { expect } from "chai";
import { openDatabase, SQL_READER, sqlReaderOf } from "../../coordinator/db/client.ts";
import type { SqlReader } from "../../coordinator/db/sqlReader.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { EXAMPLE_QUERY } from "../../coordinator/graphql/exampleQuery.ts";
import { JobChangeFeed } from "../../coordinator/graphql/jobChangeFeed.ts";
import { buildSchema, getNamedType, type GraphQLObjectType, isObjectType } from "graphql";
import { ReadSet } from "../../coordinator/graphql/reads.ts";
import { KEPT_DOCUMENT_TEXT } from "../../coordinator/graphql/directExecutor.ts";
import { coordinatorTypeDefs, createGraphQL, YOGA_KEPT_DOCUMENT_TEXT } from "../../coordinator/graphql/yoga.ts";
import { jobEventFields, jobEventId } from "../../coordinator/indexer/rows.ts";
import { testCircuit, testJob } from "../../dev/coordinatorRows.ts";

const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];

type Db = Awaited<ReturnType<typeof openDatabase>>["db"];

/** `db` with the calls of one method of one model counted (that model has only that method). */
function countingCalls(db: Db, model: "jobEvent" | "indexerCheckpoint", method: "findMany" | "findUnique") {
  let calls = 0;
  const counted = new Proxy(db, {
    get(target, key) {
      if (key !== model) return Reflect.get(target, key, target);
      const delegate = (target[model] as unknown as Record<string, (args: unknown) => unknown>)[method];
      return {
        [method]: (args: unknown) => {
          calls++;
          return delegate(args);
        },
      };
    },
  });
  return { db: counted, calls: () => calls };
}

describe("coordinator GraphQL", function () {
  let scratch: ScratchDatabase;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  let yoga: ReturnType<typeof createGraphQL>;

  before(async function () {
    scratch = await scratchDatabase("sqlite");
    await migrate(scratch.url);
    database = await openDatabase(scratch.url);
    const { db } = database;
    await db.circuit.create({ data: testCircuit(1, "poseidon_preimage/groth16") });
    for (let i = 1; i <= 25; i++) {
      const status = STATUSES[i % 5];
      await db.job.create({
        data: {
          ...testJob({
            id: String(i),
            circuitId: 1,
            requester: i % 2 === 0 ? "0xee" : "0xdd",
            status,
            // Proved jobs were sold up a ramp from half their escrow, at 80% of it.
            maxFee: String(i * 1000),
            minFee: status === "Proved" ? String(i * 500) : undefined,
            rampDuration: status === "Proved" ? 100 : undefined,
            lockedPrice: status === "Proved" ? String(i * 800) : undefined,
            assignee: status === "Proved" ? "0xbb" : null,
            postedAtBlock: i,
            postedAt: 1000 + i,
            provedAt: status === "Proved" ? 1000 + i + 10 * i : null,
          }),
          events: {
            create: [
              {
                id: jobEventId(i, 0),
                circuitId: 1,
                kind: "Posted",
                blockNumber: i,
                blockHash: "0xb",
                logIndex: 0,
                txHash: `tx${i}`,
                timestamp: 1000 + i,
                data: "{}",
              },
              ...(status === "Proved"
                ? [
                    {
                      id: jobEventId(i + 1, 1),
                      circuitId: 1,
                      kind: "Proved",
                      blockNumber: i + 1,
                      blockHash: "0xb",
                      logIndex: 1,
                      txHash: `tx${i}`,
                      timestamp: 1000 + 11 * i,
                      prover: "0xbb",
                      data: "{}",
                    },
                  ]
                : []),
            ],
          },
        },
      });
    }
    yoga = createGraphQL(db);
  });

  after(async function () {
    await database?.close();
    await scratch?.drop();
  });

  async function query(text: string, variables: Record<string, unknown> = {}, api = yoga) {
    const response = await api.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  }

  it("pages through jobs newest first with cursors, and oldest first when asked", async function () {
    const q = `query($after: String, $order: JobOrder) { jobsPage(first: 10, after: $after, orderBy: $order) { nodes { id postedAt } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { data, errors } = await query(q, { after });
      expect(errors).to.equal(undefined);
      seen.push(...data.jobsPage.nodes.map((n: { id: string }) => n.id));
      if (!data.jobsPage.pageInfo.hasNextPage) break;
      after = data.jobsPage.pageInfo.endCursor;
    }
    expect(seen).to.deep.equal(Array.from({ length: 25 }, (_, i) => String(25 - i)));
    const asc = await query(q, { order: "POSTED_AT_ASC" });
    expect(asc.data.jobsPage.nodes.map((n: { id: string }) => n.id).slice(0, 3)).to.deep.equal(["1", "2", "3"]);
  });

  it("filters by status, requester, circuit, prover and time range", async function () {
    const ids = async (where: Record<string, unknown>) =>
      (
        await query(`query($w: JobFilter) { jobsPage(where: $w, first: 100) { nodes { id } } }`, { w: where })
      ).data.jobsPage.nodes
        .map((n: { id: string }) => Number(n.id))
        .sort((a: number, b: number) => a - b);
    expect(await ids({ status: "Proved" })).to.deep.equal([2, 7, 12, 17, 22]);
    expect(await ids({ status: "Proved", requester: "0xee" })).to.deep.equal([2, 12, 22]);
    expect(await ids({ prover: "0xbb" })).to.deep.equal([2, 7, 12, 17, 22]);
    expect(await ids({ circuitId: "1", postedAfter: 1020 })).to.deep.equal([21, 22, 23, 24, 25]);
    expect(await ids({ postedAfter: 1003, postedBefore: 1006 })).to.deep.equal([4, 5]);
  });

  it("gives a job with its circuit and its history in chain order", async function () {
    const { data } = await query(
      `{ job(id: "7") { id status minFee maxFee rampStart rampDuration lockedPrice currentPrice assignee circuit { id name system } events { kind blockNumber prover } } }`,
    );
    expect(data.job).to.deep.equal({
      id: "7",
      status: "Proved",
      minFee: "3500",
      maxFee: "7000",
      rampStart: 1007,
      rampDuration: 100,
      lockedPrice: "5600",
      currentPrice: null,
      assignee: "0xbb",
      circuit: { id: "1", name: "poseidon_preimage/groth16", system: "groth16" },
      events: [
        { kind: "Posted", blockNumber: 7, prover: null },
        { kind: "Proved", blockNumber: 8, prover: "0xbb" },
      ],
    });
    expect((await query(`{ job(id: "999") { id } }`)).data.job).to.equal(null);
  });

  it("computes market stats", async function () {
    const { data } = await query(
      `{ marketStats(id: "market") { open claimed proved cancelled expired feesPaid requesterSavings escrowed slashes medianTimeToProof } }`,
    );
    expect(data.marketStats).to.deep.equal({
      open: 5,
      claimed: 5,
      proved: 5,
      cancelled: 5,
      expired: 5,
      // Paid 80% of the escrow of each proved job; the other 20% went back to its requester.
      feesPaid: String((2 + 7 + 12 + 17 + 22) * 800),
      requesterSavings: String((2 + 7 + 12 + 17 + 22) * 200),
      // The escrow of the Open jobs (5, 10, ...) and the Claimed ones (1, 6, ...).
      escrowed: String((5 + 10 + 15 + 20 + 25 + 1 + 6 + 11 + 16 + 21) * 1000),
      slashes: 0,
      medianTimeToProof: 120,
    });
  });

  it("refuses oversized pages, bad cursors, too-deep queries and unknown fields with clear errors", async function () {
    const big = await query(`{ jobsPage(first: 500) { nodes { id } } }`);
    expect(big.errors![0].message).to.equal("first must be between 1 and 100, got 500");
    expect(big.errors![0].extensions!.code).to.equal("BAD_USER_INPUT");
    const cursor = await query(`{ jobsPage(after: "%%%") { nodes { id } } }`);
    expect(cursor.errors![0].message).to.match(/not a cursor/);
    const circuit = await query(`{ jobsPage(where: { circuitId: "abc" }) { nodes { id } } }`);
    expect(circuit.errors![0].message).to.equal(
      `where.circuitId: "abc" is not a circuit's id; ids are whole numbers, like "1" (see circuits { id name })`,
    );
    expect(circuit.errors![0].extensions!.code).to.equal("BAD_USER_INPUT");
    const shallow = createGraphQL(database.db, { maxDepth: 3 });
    const deep = await query(`{ jobsPage { nodes { circuit { id } } } }`, {}, shallow);
    expect(deep.errors![0].message).to.equal("query depth 4 exceeds the limit of 3");
    // Cost: a hundred jobs each with a hundred-job list inside would pass the depth limit; it is priced and refused.
    const costly = await query(
      `{ jobsPage(first: 100) { nodes { events { kind } circuit { name } } } proversPage(first: 100) { nodes { address } } }`,
      {},
      createGraphQL(database.db, { maxCost: 1000 }),
    );
    expect(costly.errors![0].message).to.equal(
      "query cost 1602 exceeds the limit of 1000: ask for smaller pages (first) or fewer nested lists",
    );
    expect(costly.errors![0].extensions!.code).to.equal("QUERY_TOO_COSTLY");
    // A variable `first` is priced at the page cap, since validation cannot see variables.
    const variable = await query(
      `query($n: Int) { jobsPage(first: $n) { nodes { events { kind } } } }`,
      { n: 1 },
      createGraphQL(database.db, { maxCost: 1000 }),
    );
    expect(variable.errors![0].message).to.match(/^query cost 1201 exceeds/);
    const unknown = await query(`{ jobsPage { nodes { secret } } }`);
    expect(unknown.errors![0].message).to.match(/Cannot query field "secret" on type "Job"/);
  });

  it("keeps parsed queries within a size: a flood of large distinct texts is answered and then forgotten", async function () {
    const api = createGraphQL(database.db);
    // 40 distinct texts of 60 KB each (a syntax tree is 25 to 100 times its text): 2.4 MB of text in all.
    const large = (i: number) => `{ jobs(first: 1) { id } } # ${"x".repeat(60_000)} ${i}`;
    for (let i = 0; i < 40; i++) {
      const body = JSON.stringify({ query: large(i) });
      expect(JSON.parse((await api.executeQuery(body, new ReadSet()))!).data.jobs).to.have.length(1);
      expect((await query(large(i), {}, api)).data.jobs).to.have.length(1);
    }
    const direct = api.keptDocuments();
    expect(direct.textLength).to.be.at.most(KEPT_DOCUMENT_TEXT);
    expect(direct.count).to.be.within(1, Math.floor(KEPT_DOCUMENT_TEXT / 60_000));
    const yogaKept = api.yogaKeptDocuments();
    expect(yogaKept.textLength).to.be.at.most(YOGA_KEPT_DOCUMENT_TEXT);
    expect(yogaKept.count).to.be.within(1, Math.floor(YOGA_KEPT_DOCUMENT_TEXT / 60_000));
    // Small texts are kept as before, side by side.
    for (let i = 0; i < 50; i++)
      await api.executeQuery(JSON.stringify({ query: `{ a${i}: jobs(first: 1) { id } }` }), new ReadSet());
    expect(api.keptDocuments().count).to.be.at.least(50);
  });

  it("prices an aggregate by its work and counts every alias: a flood of one field is refused with what to change, never 'Validation aborted.'", async function () {
    const copies = (n: number, field: (i: number) => string) =>
      `{ ${Array.from({ length: n }, (_, i) => field(i)).join(" ")} }`;
    const refusal = async (text: string) => {
      const answer = await query(text);
      expect(answer.data ?? null).to.equal(null);
      expect(answer.errors!.map((e: { message: string }) => e.message).join("\n")).to.not.include("Validation aborted");
      return answer.errors! as { message: string; extensions: { code: string } }[];
    };
    // A thousand marketStats under distinct aliases: each reads every job, each is priced so (100), and refused.
    const distinct = await refusal(copies(1000, (i) => `a${i}: marketStats(id: "market") { open }`));
    expect(distinct).to.have.length(1);
    expect(distinct[0].extensions.code).to.equal("QUERY_TOO_COSTLY");
    expect(distinct[0].message).to.match(/^query cost 101000 exceeds the limit of 5000/);
    expect(distinct[0].message).to.include("it asks for `marketStats` 1000 times (each alias costs again)");
    // The same inside a named fragment: named too.
    const inFragment = await refusal(
      `{ ...Totals } fragment Totals on Query ${copies(100, (i) => `a${i}: marketStats(id: "market") { open }`)}`,
    );
    expect(inFragment[0].message).to.include("it asks for `marketStats` 100 times (each alias costs again)");
    // A thousand copies of one alias of a cheap field: within the cost limit, refused for the repeats, named.
    const repeated = await refusal(copies(1000, () => `a: job(id: "1") { id }`));
    expect(repeated.map((e) => e.extensions.code)).to.deep.equal(["REPEATED_FIELD"]);
    expect(repeated[0].message).to.match(/^"a" is asked 1000 times in one selection \(at most 10\)/);
    // The same field without an alias, and one alias of an aggregate: both limits speak.
    const both = await refusal(copies(1000, () => `marketStats(id: "market") { open }`));
    expect(both.map((e) => e.extensions.code).sort()).to.deep.equal(["QUERY_TOO_COSTLY", "REPEATED_FIELD"]);
    // Repeats through fragments, which the repeat limit does not count: graphql's own check gives up, and the
    // client is told what to change instead of "Validation aborted.".
    const inline = await refusal(copies(1000, () => `... on Query { a: __typename }`));
    expect(inline.map((e) => e.extensions.code)).to.deep.equal(["REPEATED_FIELD"]);
    expect(inline[0].message).to.match(/ask for each field once per selection and spread each fragment once$/);
    // What a client needs is answered: a few aggregates, and a cheap field asked a few times.
    const few = await query(copies(3, (i) => `s${i}: marketStats(id: "market") { open }`));
    expect(few.errors).to.equal(undefined);
    expect(few.data.s2).to.deep.equal(few.data.s0);
    const twice = await query(`{ a: job(id: "1") { id } a: job(id: "1") { status } }`);
    expect(twice.errors).to.equal(undefined);
    expect(twice.data.a.id).to.equal("1");
  });

  it("streams a job's state and then its changes, completing when it is final, and new jobs of a circuit (server-sent events)", async function () {
    const { db } = database;
    const feed = new JobChangeFeed();
    const api = createGraphQL(db, { jobChanges: feed });
    const subscribe = async (text: string) => {
      const response = await api.fetch("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query: text }),
      });
      expect(response.headers.get("content-type")).to.match(/text\/event-stream/);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      const read = async () => {
        const { value, done } = await reader.read();
        if (done) return false;
        buffer += decoder.decode(value);
        return true;
      };
      return {
        /** The next event's payload (`data` and, for a refusal, `errors`). */
        async payload(): Promise<any> {
          for (;;) {
            const match = /event: next\ndata: (\{.*\})\n/.exec(buffer);
            if (match) {
              buffer = buffer.slice(match.index + match[0].length);
              return JSON.parse(match[1]);
            }
            if (!(await read())) throw new Error("stream ended");
          }
        },
        /** The next event's data. */
        async next(): Promise<any> {
          return (await this.payload()).data;
        },
        /** Whether the server ends the stream (its `complete` event, then the end of the body) with nothing more. */
        async completes(): Promise<boolean> {
          while (await read());
          return /^\s*(:\n\n)*event: complete\n/.test(buffer.replace(/^:\n\n/gm, ""));
        },
        close: () => reader.cancel(),
      };
    };
    const base = {
      circuitId: 1,
      requester: "0xnew",
      minFee: "1",
      maxFee: "1",
      rampStart: 2000,
      rampDuration: 0,
      bond: "1",
      provingWindow: 60,
      expiresAt: 99_999,
      inputsCommitment: "0xc",
      inputsHash: "0xh",
      inputsURI: "u",
      postedAtBlock: 30,
      postedAt: 2000,
    };

    // A new job of circuit 1 reaches the subscriber to the circuit's Open jobs.
    const openJobs = await subscribe(`subscription { jobs(circuitId: "1", status: Open) { id status } }`);
    const firstOpen = openJobs.next();
    await new Promise((r) => setTimeout(r, 50)); // the subscription is listening
    await db.job.create({ data: { id: "26", status: "Open", ...base } });
    feed.publish(["26"]);
    expect(await firstOpen).to.deep.equal({ jobs: { id: "26", status: "Open" } });

    // jobStatus: the job as it stands first, then each change of it (not another job's), to the final one.
    const one = await subscribe(`subscription { jobStatus(id: "26") { id status attempt } }`);
    expect(await one.next()).to.deep.equal({ jobStatus: { id: "26", status: "Open", attempt: 0 } });
    await db.job.update({ where: { id: "26" }, data: { status: "Claimed", attempt: 0, assignee: "0xp" } });
    feed.publish(["7"]); // another job: not for this subscriber
    feed.publish(["26"]);
    expect(await one.next()).to.deep.equal({ jobStatus: { id: "26", status: "Claimed", attempt: 0 } });
    feed.publish(["26"]); // published again with nothing changed: not sent again
    await new Promise((r) => setTimeout(r, 50));
    await db.job.update({ where: { id: "26" }, data: { status: "Proved", lockedPrice: "1" } });
    feed.publish(["26"]);
    expect(await one.next()).to.deep.equal({ jobStatus: { id: "26", status: "Proved", attempt: 0 } });
    expect(await one.completes(), "the stream ends once the job is final").to.equal(true);

    // A job already final: its state, then the end.
    const final = await subscribe(`subscription { jobStatus(id: "26") { id status } }`);
    expect(await final.next()).to.deep.equal({ jobStatus: { id: "26", status: "Proved" } });
    expect(await final.completes()).to.equal(true);

    // An id that is no job's, or no job yet: one error event that says so, then the end.
    for (const [id, code, message] of [
      ["abc", "BAD_USER_INPUT", /"abc" is not a job id; job ids are whole numbers from 1/],
      ["0", "BAD_USER_INPUT", /"0" is not a job id/],
      ["999999", "NOT_FOUND", /there is no job 999999 \(not posted, or not indexed yet\)/],
    ] as const) {
      const refused = await subscribe(`subscription { jobStatus(id: "${id}") { id status } }`);
      const { errors } = await refused.payload();
      expect(errors, id).to.have.length(1);
      expect(errors[0].message).to.match(message);
      expect(errors[0].extensions.code).to.equal(code);
      expect(await refused.completes(), id).to.equal(true);
    }

    // The jobs subscription never completes: it is still open for the next job.
    const secondOpen = openJobs.next();
    await db.job.create({ data: { id: "27", status: "Open", ...base } });
    feed.publish(["27"]);
    expect(await secondOpen).to.deep.equal({ jobs: { id: "27", status: "Open" } });
    await openJobs.close();

    // A job a reorg rewinds out of the database: an error event that says so, then the end (not a silent end).
    const rewound = await subscribe(`subscription { jobStatus(id: "27") { id status } }`);
    expect(await rewound.next()).to.deep.equal({ jobStatus: { id: "27", status: "Open" } });
    await db.job.delete({ where: { id: "27" } });
    feed.publish(["27"]);
    const gone = await rewound.payload();
    expect(gone.errors[0].extensions.code).to.equal("REORGED_OUT");
    expect(gone.errors[0].message).to.match(/job 27 is gone: a chain reorganization removed the block that posted it/);
    expect(await rewound.completes()).to.equal(true);

    // A subscriber that reads nothing while ranges change thousands of jobs holds the set of ids changed, not a
    // queue of events: nothing overflows (yoga's pubsub threw past 1,024 pending events, inside the indexer), and
    // when it reads it gets each job as it stands.
    const stalled = await subscribe(`subscription { jobs(status: Open) { id status } }`);
    await new Promise((r) => setTimeout(r, 50));
    const listening = feed.listening;
    const thousands = Array.from({ length: 3000 }, (_, i) => String(100_000 + i)); // no such jobs: filtered out
    for (let range = 0; range < 2000; range++) feed.publish(thousands);
    await db.job.create({ data: { id: "28", status: "Open", ...base } });
    feed.publish(["28"]);
    expect(await stalled.payload()).to.deep.equal({ data: { jobs: { id: "28", status: "Open" } } });
    await stalled.close();
    for (let i = 0; i < 50 && feed.listening >= listening; i++) await new Promise((r) => setTimeout(r, 10));
    expect(feed.listening, "a subscriber that leaves stops listening").to.equal(listening - 1);
    await db.jobEvent.deleteMany({ where: { jobId: { in: ["26", "27", "28"] } } });
    await db.job.deleteMany({ where: { id: { in: ["26", "27", "28"] } } });
  });

  it("pages by keyset cursors: a cursor is the last row's sort key (postedAt:id)", async function () {
    const first = await query(`{ jobsPage(first: 5) { nodes { id } pageInfo { endCursor } } }`);
    const cursor = first.data.jobsPage.pageInfo.endCursor as string;
    expect(Buffer.from(cursor, "base64url").toString()).to.equal("1021:21");
    const next = await query(`query($after: String) { jobsPage(first: 3, after: $after) { nodes { id } } }`, {
      after: cursor,
    });
    expect(next.data.jobsPage.nodes.map((n: { id: string }) => n.id)).to.deep.equal(["20", "19", "18"]);
  });

  it("loads the histories of a page of jobs with one query, each in chain order", async function () {
    const counting = countingCalls(database.db, "jobEvent", "findMany");
    const api = createGraphQL(counting.db);
    const { data, errors } = await query(`{ jobsPage(first: 25) { nodes { id status events { kind } } } }`, {}, api);
    expect(errors).to.equal(undefined);
    expect(counting.calls()).to.equal(1);
    for (const job of data.jobsPage.nodes as { id: string; status: string; events: { kind: string }[] }[])
      expect(job.events.map((e) => e.kind)).to.deep.equal(job.status === "Proved" ? ["Posted", "Proved"] : ["Posted"]);
  });

  it("reads only the columns a list's items select, through aliases and fragments, and those computed fields use", async function () {
    const { db } = database;
    // The statements the lists send to the database's SQL reader, recorded.
    const statements: string[] = [];
    const reader = sqlReaderOf(db);
    const recording: SqlReader = {
      ...reader,
      rows: (q) => {
        statements.push(q.sql);
        return reader.rows(q);
      },
    };
    const api = createGraphQL(
      new Proxy(db, { get: (t, k) => (k === SQL_READER ? recording : Reflect.get(t, k, t)) }) as Db,
    );
    const selectedOf = (sql: string) =>
      /^SELECT (.*?) FROM/
        .exec(sql)![1]
        .split(", ")
        .map((c) => /"(\w+)"$/.exec(c)![1])
        .sort();
    const jobs = await db.job.findMany({ orderBy: { id: "asc" } });

    const listed = await query(
      `fragment Fees on Job { maxFee ... on Job { paid: lockedPrice } }
       { jobs(first: 3, orderBy: postedAt) { id ...Fees circuit { name } __typename } }`,
      {},
      api,
    );
    expect(listed.errors).to.equal(undefined);
    expect(selectedOf(statements.at(-1)!)).to.deep.equal(["circuitId", "id", "lockedPrice", "maxFee"]);
    const oldest = [...jobs].sort((x, y) => x.postedAt - y.postedAt).slice(0, 3);
    expect(listed.data.jobs).to.deep.equal(
      oldest.map((j) => ({
        id: j.id,
        maxFee: j.maxFee,
        paid: j.lockedPrice,
        circuit: { name: "poseidon_preimage/groth16" },
        __typename: "Job",
      })),
    );

    const paged = await query(`{ jobsPage(first: 2) { nodes { currentPrice events { kind } } } }`, {}, api);
    expect(paged.errors).to.equal(undefined);
    expect(selectedOf(statements.at(-1)!)).to.deep.equal([
      "expiresAt",
      "id",
      "maxFee",
      "minFee",
      "postedAt",
      "rampDuration",
      "rampStart",
      "status",
    ]);
    expect(paged.data.jobsPage.nodes).to.have.length(2);

    const events = await query(`{ jobEvents(first: 2) { kind job { requester } } provers(first: 1) { id } }`, {}, api);
    expect(events.errors).to.equal(undefined);
    expect(statements.slice(-2).map(selectedOf)).to.deep.include.members([["id", "jobId", "kind"], ["address"]]);
    const firstEvents = await db.jobEvent.findMany({ orderBy: { id: "asc" }, take: 2 });
    expect(events.data.jobEvents).to.deep.equal(
      firstEvents.map((e) => ({ kind: e.kind, job: { requester: jobs.find((j) => j.id === e.jobId)!.requester } })),
    );

    // Every field of every listed entity, read from a list's columns, is what the entity's own root field (which
    // reads the whole row) answers: no field of the schema lacks its column.
    await db.prover.create({
      data: { address: "0x00000000000000000000000000000000000000aa", staked: "7", jobsProved: 2 },
    });
    const schema = buildSchema(coordinatorTypeDefs());
    const everyField = (type: string) =>
      Object.values((schema.getType(type) as GraphQLObjectType).getFields())
        .map((f) => (isObjectType(getNamedType(f.type)) ? `${f.name} { __typename }` : f.name))
        .join(" ");
    for (const [type, list, one] of [
      ["Job", "jobs", "job"],
      ["JobEvent", "jobEvents", "jobEvent"],
      ["Prover", "provers", "prover"],
    ]) {
      const listedAll = await query(`{ ${list}(first: 20) { ${everyField(type)} } }`, {}, api);
      expect(listedAll.errors, type).to.equal(undefined);
      expect(listedAll.data[list].length, type).to.be.greaterThan(0);
      for (const item of listedAll.data[list]) {
        const alone = await query(`query($id: ID!) { ${one}(id: $id) { ${everyField(type)} } }`, { id: item.id }, api);
        expect(alone.data[one], `${type} ${item.id}`).to.deep.equal(item);
      }
    }
  });

  it("prices an Open job at the time of the head the indexer has seen, while a claim could lock it", async function () {
    const { db } = database;
    // Job 901 is Open on a ramp from 1000 at 5000 to 2000 at 5100, and expires at 6000; job 902 is Claimed.
    const ramp = { minFee: "1000", maxFee: "2000", rampStart: 5000, rampDuration: 100 };
    const fields = { circuitId: 1, requester: "0xramp", assignee: null, postedAtBlock: 900, postedAt: 4990 };
    await db.job.create({ data: { ...testJob({ ...fields, id: "901", status: "Open", ...ramp }), expiresAt: 6000 } });
    await db.job.create({
      data: { ...testJob({ ...fields, id: "902", status: "Claimed", ...ramp }), expiresAt: 6000 },
    });
    const prices = async () => {
      const { data, errors } = await query(
        `{ a: job(id: "901") { currentPrice lockedPrice } b: job(id: "902") { currentPrice lockedPrice } }`,
      );
      expect(errors).to.equal(undefined);
      return [data.a.currentPrice, data.b.currentPrice];
    };
    const head = async (headTimestamp: number | null) => {
      const checkpoint = {
        chainId: 31337,
        market: "0xm",
        lastBlock: 10,
        lastHash: "0xh",
        headBlock: 12,
        headTimestamp,
      };
      await db.indexerCheckpoint.upsert({ where: { id: 1 }, create: { id: 1, ...checkpoint }, update: checkpoint });
    };
    try {
      expect(await prices(), "before the indexer has read a block").to.deep.equal([null, null]);
      await head(4999);
      expect(await prices(), "before the ramp").to.deep.equal(["1000", null]);
      await head(5025);
      expect(await prices(), "a quarter of the way up").to.deep.equal(["1250", null]);
      await head(5033);
      expect(await prices(), "rounded down").to.deep.equal(["1330", null]);
      await head(5100);
      expect(await prices(), "at the top").to.deep.equal(["2000", null]);
      await head(6000);
      expect(await prices(), "at its expiry, when a claim would fail").to.deep.equal([null, null]);
      // A checkpoint written before the head was kept: the newest indexed block's time.
      await head(null);
      await db.indexedBlock.create({ data: { number: 10, hash: "0xh", parentHash: "0xp", timestamp: 5050 } });
      expect(await prices(), "at the indexed block's time").to.deep.equal(["1500", null]);

      // A page of jobs reads the head once, whatever the number of jobs it prices.
      const counting = countingCalls(db, "indexerCheckpoint", "findUnique");
      const page = await query(
        `{ jobsPage(first: 30) { nodes { id status currentPrice } } }`,
        {},
        createGraphQL(counting.db),
      );
      expect(page.errors).to.equal(undefined);
      expect(counting.calls(), "the head is read once").to.equal(1);
      const priced = page.data.jobsPage.nodes.filter((j: { currentPrice: string | null }) => j.currentPrice !== null);
      // Job 901 up its ramp, and the seeded Open jobs (5, 10, ...; fixed prices, expiring at 10,000) at their fee.
      expect(priced).to.deep.equal([
        { id: "901", status: "Open", currentPrice: "1500" },
        ...[25, 20, 15, 10, 5].map((i) => ({ id: String(i), status: "Open", currentPrice: String(i * 1000) })),
      ]);
    } finally {
      await db.indexedBlock.deleteMany({});
      await db.indexerCheckpoint.deleteMany({});
      await db.job.deleteMany({ where: { id: { in: ["901", "902"] } } });
    }
  });

  it("lists a circuit's recent locked prices newest first, at most 20, and their median", async function () {
    const { db } = database;
    await db.circuit.create({ data: testCircuit(2, "ramped") });
    await db.circuit.create({ data: testCircuit(3, "twice") });
    const claims = async (circuitId: number, jobId: string, prices: number[], firstBlock: number) => {
      await db.job.create({
        data: testJob({
          id: jobId,
          circuitId,
          requester: "0xr",
          status: "Claimed",
          maxFee: "1000",
          assignee: "0xp",
          postedAtBlock: 1,
          postedAt: 1,
        }),
      });
      // Two claims to a block (a later log index is newer), in chain order.
      await db.jobEvent.createMany({
        data: prices.map((price, k) => ({
          id: jobEventId(firstBlock + (k >> 1), k & 1),
          jobId,
          circuitId,
          kind: "Claimed",
          blockNumber: firstBlock + (k >> 1),
          blockHash: "0xb",
          logIndex: k & 1,
          txHash: `0x${jobId}`,
          timestamp: 2000 + k,
          prover: "0xp",
          attempt: k,
          data: JSON.stringify({ price: String(price), deadline: "0", bond: "1" }),
          ...jobEventFields({ price: String(price), deadline: "0", bond: "1" }),
        })),
      });
    };
    try {
      // 23 claims at 10, 20, ..., 230: the newest 20 are 230 down to 40, whose upper median is 140.
      await claims(
        2,
        "903",
        Array.from({ length: 23 }, (_, k) => 10 * (k + 1)),
        100,
      );
      await claims(3, "904", [7, 10], 200);
      const { data, errors } = await query(
        `{ ramped: circuit(id: "2") { recentLockedPrices medianLockedPrice }
           twice: circuit(id: "3") { recentLockedPrices medianLockedPrice }
           none: circuit(id: "1") { recentLockedPrices medianLockedPrice } }`,
      );
      expect(errors).to.equal(undefined);
      expect(data.ramped.recentLockedPrices).to.deep.equal(Array.from({ length: 20 }, (_, k) => String(230 - 10 * k)));
      expect(data.ramped.medianLockedPrice).to.equal("140");
      expect(data.twice, "the upper of two").to.deep.equal({
        recentLockedPrices: ["10", "7"],
        medianLockedPrice: "10",
      });
      expect(data.none, "no claim yet").to.deep.equal({ recentLockedPrices: [], medianLockedPrice: null });
      // The history shows what each claim locked.
      const job = await query(`{ job(id: "904") { lockedPrice events { kind price minFee maxFee refund } } }`);
      expect(job.data.job.events.map((e: { price: string }) => e.price)).to.deep.equal(["7", "10"]);
      expect(job.data.job.events[0]).to.deep.equal({
        kind: "Claimed",
        price: "7",
        minFee: null,
        maxFee: null,
        refund: null,
      });
    } finally {
      await db.jobEvent.deleteMany({ where: { jobId: { in: ["903", "904"] } } });
      await db.job.deleteMany({ where: { id: { in: ["903", "904"] } } });
      await db.circuit.deleteMany({ where: { id: { in: [2, 3] } } });
    }
  });

  it("answers the example query newcomers see first (GraphiQL, npm start), with the price fields", async function () {
    const { data, errors } = await query(EXAMPLE_QUERY);
    expect(errors).to.equal(undefined);
    expect(data.jobs).to.have.length(10);
    expect(
      data.jobs.map((j: { id: string }) => j.id),
      "newest first",
    ).to.deep.equal(Array.from({ length: 10 }, (_, i) => String(25 - i)));
    expect(data.jobs[0]).to.have.all.keys(
      "id",
      "status",
      "minFee",
      "maxFee",
      "currentPrice",
      "lockedPrice",
      "assignee",
      "circuit",
      "events",
    );
    expect(data.marketStats).to.include({ proved: 5, requesterSavings: String((2 + 7 + 12 + 17 + 22) * 200) });
  });
});
