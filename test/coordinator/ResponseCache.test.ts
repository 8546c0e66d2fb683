/**
 * The GraphQL response cache, over HTTP as the coordinator serves it, on SQLite and PostgreSQL. A commit drops
 * exactly the kept answers that read what it changed: random commits (jobs posted, status and assignee changes,
 * fee changes, claims locking prices, prover and circuit changes) interleaved with random queries (filtered and
 * paged lists in both orders, single jobs, totals, provers, circuits and their recent prices) always give the
 * answer an uncached server gives, while answers about unchanged data stay kept. Also: an answer that read the
 * clock (Job.currentPrice) is never kept, so it follows the head with no commit at all; an answer computed while a
 * commit landed is not kept if the commit touched it; identical queries in a burst read once; errors are never
 * kept; streams pass through.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { sqltag as sql } from "@prisma/client/runtime/client";
import { openDatabase, SQL_READER, sqlReaderOf } from "../../coordinator/db/client.ts";
import type { SqlReader } from "../../coordinator/db/sqlReader.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { graphqlHttpHandler, MAX_GRAPHQL_BODY_BYTES } from "../../coordinator/graphql/httpHandler.ts";
import { ReadSet } from "../../coordinator/graphql/reads.ts";
import { type JobFilter, jobMatches, jobWhere } from "../../coordinator/graphql/jobFilter.ts";
import { JobChangeFeed } from "../../coordinator/graphql/jobChangeFeed.ts";
import { createResponseCache, type KeptResponse, type ResponseCache } from "../../coordinator/graphql/responseCache.ts";
import { createGraphQL } from "../../coordinator/graphql/yoga.ts";
import type { CommitChanges } from "../../coordinator/commitChanges.ts";
import { buildHttpApp } from "../../coordinator/http/server.ts";
import { testCircuit, testJob } from "../../dev/coordinatorRows.ts";
import { jobEventFields, jobEventId } from "../../coordinator/indexer/rows.ts";
import { seededRandom } from "../../dev/random.ts";

type Db = Awaited<ReturnType<typeof openDatabase>>["db"];
type Answer = { data?: any; errors?: { message: string }[] };

const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];
const REQUESTERS = ["0xaa", "0xbb", "0xcc"];
const PROVERS = ["0xp1", "0xp2", "0xp3"];

/** A small seeded generator (dev/random.ts), so that a failing round can be replayed. */
const random = seededRandom;
type Rng = ReturnType<typeof random>;

function jobData(id: number, rng: Rng, postedAt: number) {
  const status = rng.pick(STATUSES);
  return testJob({
    id: String(id),
    circuitId: 1 + rng.int(2),
    requester: rng.pick(REQUESTERS),
    status,
    maxFee: String(1000 + id),
    assignee: status === "Claimed" || status === "Proved" ? rng.pick(PROVERS) : null,
    postedAtBlock: id,
    postedAt,
  });
}

async function seed(db: Db, rng: Rng, jobs: number) {
  for (const id of [1, 2]) await db.circuit.create({ data: testCircuit(id, `circuit${id}`) });
  // Four jobs per second: ties on postedAt, as jobs posted in one block have.
  await db.job.createMany({ data: Array.from({ length: jobs }, (_, k) => jobData(k + 1, rng, 1000 + (k >> 2))) });
  for (const address of PROVERS) await db.prover.create({ data: { address, jobsProved: rng.int(5) } });
}

const cursorOf = (postedAt: number, id: string) => Buffer.from(`${postedAt}:${id}`).toString("base64url");

/** A random query: a jobs page (random filter, size, order, cursor), a job, totals, provers or circuits. */
function randomQuery(rng: Rng, maxId: number, maxPostedAt: number): { query: string; variables: object } {
  const kind = rng.int(10);
  if (kind < 6) {
    const where: JobFilter = {};
    if (rng.next() < 0.6) where.status = rng.pick(STATUSES);
    if (rng.next() < 0.2) where.circuitId = String(1 + rng.int(2));
    if (rng.next() < 0.2) where.requester = rng.pick(REQUESTERS).toUpperCase().replace("0X", "0x");
    if (rng.next() < 0.2) where.prover = rng.pick(PROVERS);
    if (rng.next() < 0.15) where.postedAfter = 1000 + rng.int(maxPostedAt - 1000);
    if (rng.next() < 0.15) where.postedBefore = 1000 + rng.int(maxPostedAt - 1000 + 5);
    const after =
      rng.next() < 0.5 ? cursorOf(1000 + rng.int(maxPostedAt - 1000 + 1), String(1 + rng.int(maxId))) : null;
    return {
      query: `query($where: JobFilter, $first: Int, $after: String, $orderBy: JobOrder) { jobsPage(where: $where, first: $first, after: $after, orderBy: $orderBy) { nodes { id status assignee requester maxFee lockedPrice postedAt circuit { id name } } pageInfo { hasNextPage endCursor } } }`,
      variables: { where, first: 1 + rng.int(8), after, orderBy: rng.pick(["POSTED_AT_DESC", "POSTED_AT_ASC"]) },
    };
  }
  if (kind < 8)
    return {
      query: `query($id: ID!) { job(id: $id) { id status minFee maxFee assignee events { kind price } circuit { name } } }`,
      variables: { id: String(1 + rng.int(maxId + 5)) },
    };
  if (kind === 8)
    return {
      query: `{ marketStats(id: "market") { open claimed proved feesPaid requesterSavings escrowed } }`,
      variables: {},
    };
  const which = rng.int(5);
  // The Graph's shape: a filtered, sorted list with skip.
  if (which >= 3)
    return {
      query: `query($where: Job_filter, $skip: Int, $orderBy: Job_orderBy, $dir: OrderDirection) { jobs(where: $where, first: 4, skip: $skip, orderBy: $orderBy, orderDirection: $dir) { id status maxFee lockedPrice assignee circuit { id } } }`,
      variables: {
        where: rng.next() < 0.5 ? { status: rng.pick(STATUSES) } : { maxFee_gt: String(rng.int(5000)) },
        skip: rng.int(6),
        orderBy: rng.pick(["maxFee", "postedAt", "id", "lockedPrice"]),
        dir: rng.pick(["asc", "desc"]),
      },
    };
  if (which === 0)
    return { query: `{ proversPage(first: 2) { nodes { id jobsProved } pageInfo { endCursor } } }`, variables: {} };
  if (which === 1) return { query: `{ circuits { id name } }`, variables: {} };
  return {
    query: `query($id: ID!) { circuit(id: $id) { id recentLockedPrices medianLockedPrice } }`,
    variables: { id: String(1 + rng.int(2)) },
  };
}

/** A random commit, written as the indexer would write it, with the changes the indexer would report. */
async function randomCommit(
  db: Db,
  rng: Rng,
  state: { maxId: number; maxPostedAt: number; claims: number },
): Promise<CommitChanges> {
  const changes: CommitChanges = { jobs: [], provers: false, circuits: false };
  const touched = new Map<string, object>();
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const what = rng.int(11);
    if (what < 3) {
      state.maxId++;
      state.maxPostedAt += rng.int(2);
      const row = await db.job.create({ data: jobData(state.maxId, rng, state.maxPostedAt) });
      touched.set(row.id, row);
    } else if (what < 7) {
      const id = String(1 + rng.int(state.maxId));
      const status = rng.pick(STATUSES);
      const held = status === "Claimed" || status === "Proved";
      const { maxFee } = await db.job.findUniqueOrThrow({ where: { id } });
      const row = await db.job.update({
        where: { id },
        // As the indexer writes it: a claim locks a price (here the whole escrow), other statuses have none.
        data: { status, assignee: held ? rng.pick(PROVERS) : null, lockedPrice: held ? maxFee : null },
      });
      touched.set(row.id, row);
    } else if (what < 8) {
      // A reopening raises both fees by a reward share.
      const id = String(1 + rng.int(state.maxId));
      const { minFee, maxFee } = await db.job.findUniqueOrThrow({ where: { id } });
      const reward = BigInt(1 + rng.int(1e6));
      const row = await db.job.update({
        where: { id },
        data: { minFee: String(BigInt(minFee) + reward), maxFee: String(BigInt(maxFee) + reward) },
      });
      touched.set(row.id, row);
    } else if (what < 9) {
      // A claim: the job is Claimed at a price, and its circuit's recent prices gain one.
      const price = String(rng.int(1e6));
      const row = await db.job.update({
        where: { id: String(1 + rng.int(state.maxId)) },
        data: { status: "Claimed", assignee: rng.pick(PROVERS), lockedPrice: price },
      });
      state.claims++;
      await db.jobEvent.create({
        data: {
          id: `claim:${state.claims}`,
          jobId: row.id,
          circuitId: row.circuitId,
          kind: "Claimed",
          blockNumber: state.claims,
          blockHash: "0xb",
          logIndex: 0,
          txHash: "0xt",
          timestamp: state.claims,
          prover: row.assignee,
          attempt: 0,
          data: JSON.stringify({ price }),
          ...jobEventFields({ price }),
        },
      });
      touched.set(row.id, row);
    } else if (what < 10) {
      await db.prover.update({ where: { address: rng.pick(PROVERS) }, data: { jobsProved: rng.int(10) } });
      changes.provers = true;
    } else {
      await db.circuit.update({ where: { id: 1 + rng.int(2) }, data: { name: `circuit-${rng.int(100)}` } });
      changes.circuits = true;
    }
  }
  changes.jobs = [...touched.values()] as CommitChanges["jobs"];
  return changes;
}

for (const provider of PROVIDERS) {
  describe(`coordinator GraphQL response cache (${provider})`, function () {
    let scratch: ScratchDatabase;
    let database: Awaited<ReturnType<typeof openDatabase>>;
    let cache: ResponseCache;
    let server: Server;
    let base: string;
    let reference: ReturnType<typeof createGraphQL>;
    const state = { maxId: 60, maxPostedAt: 1000 + 14, claims: 0 };

    before(async function () {
      scratch = await scratchDatabase(provider);
      await migrate(scratch.url);
      database = await openDatabase(scratch.url);
      await seed(database.db, random(1), state.maxId);
      // Every answer kept from its first asking: these tests are about which answers a commit drops.
      cache = createResponseCache({ keepFirstAnswers: true });
      ({ server, base } = await listen(database.db, cache));
      reference = createGraphQL(database.db);
    });

    after(async function () {
      server?.close();
      await database?.close();
      await scratch?.drop();
    });

    async function cached(query: string, variables: object = {}, url = base): Promise<Answer> {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as Answer;
    }
    async function uncached(query: string, variables: object = {}): Promise<Answer> {
      const response = await reference.fetch("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as Answer;
    }

    it("a filter means the same as a database query and as a predicate on a changed job", async function () {
      const rng = random(7);
      const rows = await database.db.job.findMany();
      for (let i = 0; i < 60; i++) {
        const { variables } = randomQuery(rng, state.maxId, state.maxPostedAt);
        const where = ((variables as { where?: JobFilter }).where ?? {}) as JobFilter;
        const fromDb = (
          await sqlReaderOf(database.db).rows<{ id: string }>(
            sql`SELECT t."id" FROM "Job" t WHERE ${jobWhere(where, "t")}`,
          )
        ).map((r) => r.id);
        const fromPredicate = rows.filter((r) => jobMatches(where, r)).map((r) => r.id);
        expect(fromDb.sort(), JSON.stringify(where)).to.deep.equal(fromPredicate.sort());
      }
    });

    it("random commits between random queries: every answer is the uncached answer, and unchanged ones stay kept", async function () {
      this.timeout(120_000);
      const rng = random(provider === "sqlite" ? 11 : 12);
      const pool = Array.from({ length: 50 }, () => randomQuery(rng, state.maxId, state.maxPostedAt));
      let droppedBeforeLast = 0;
      let keptAfterCommits = 0;
      for (let round = 0; round < 40; round++) {
        const cursors: string[] = [];
        for (const { query, variables } of pool) {
          const [got, want] = [await cached(query, variables), await uncached(query, variables)];
          expect(got, `round ${round}: ${query} ${JSON.stringify(variables)}`).to.deep.equal(want);
          if (want.data?.jobsPage?.pageInfo.endCursor) cursors.push(want.data.jobsPage.pageInfo.endCursor);
        }
        // Fresh queries now and then, among them the next pages of pages just read.
        for (let k = 0; k < 5; k++) {
          const fresh = randomQuery(rng, state.maxId, state.maxPostedAt) as { query: string; variables: any };
          if (fresh.variables.after && cursors.length > 0) fresh.variables.after = rng.pick(cursors);
          pool[rng.int(pool.length)] = fresh;
        }
        droppedBeforeLast = cache.stats().dropped;
        cache.invalidate(await randomCommit(database.db, rng, state));
        keptAfterCommits += cache.stats().entries;
      }
      const { hits, misses, entries, dropped } = cache.stats();
      // A commit changes a few jobs: most kept answers survive it (on average: a commit that registers a circuit
      // drops every answer that showed one).
      expect(hits).to.be.greaterThan(misses);
      expect(keptAfterCommits / 40).to.be.greaterThan(20);
      expect(dropped - droppedBeforeLast).to.be.lessThan(50);
      expect(entries).to.be.greaterThan(0);
    });

    it("never keeps an answer that priced a job at the head: once the head moves, the same query prices higher", async function () {
      const { db } = database;
      state.maxId++;
      const id = String(state.maxId);
      // Open, on a ramp from 1000 at 50,000 up to 2000 at 51,000; it expires at 60,000.
      const job = testJob({
        id,
        circuitId: 1,
        requester: "0xaa",
        status: "Open",
        minFee: "1000",
        maxFee: "2000",
        rampStart: 50_000,
        rampDuration: 1_000,
        assignee: null,
        postedAtBlock: state.maxId,
        postedAt: state.maxPostedAt,
      });
      cache.invalidate({
        jobs: [await db.job.create({ data: { ...job, expiresAt: 60_000 } })],
        provers: false,
        circuits: false,
      });
      // The indexer read a range up to a newer head, with no market event in it: its commit changes nothing kept.
      const headAt = async (headTimestamp: number) => {
        const checkpoint = {
          chainId: 31337,
          market: "0xm",
          lastBlock: 7,
          lastHash: "0xh",
          headBlock: 7,
          headTimestamp,
        };
        await db.indexerCheckpoint.upsert({ where: { id: 1 }, create: { id: 1, ...checkpoint }, update: checkpoint });
        cache.invalidate({ jobs: [], provers: false, circuits: false });
      };
      const priced = `{ job(id: "${id}") { id currentPrice } }`;
      const listed = `{ jobsPage(first: 3, where: { requester: "0xaa", status: Open }) { nodes { id currentPrice } } }`;
      const plain = `{ job(id: "${id}") { id maxFee } }`;
      try {
        await headAt(50_100);
        expect((await cached(priced)).data.job.currentPrice).to.equal("1100");
        expect((await cached(listed)).data.jobsPage.nodes[0]).to.deep.equal({ id, currentPrice: "1100" });
        await cached(plain);
        const before = cache.stats();
        await headAt(50_500);
        expect((await cached(priced)).data.job.currentPrice, "not the kept 1100").to.equal("1500");
        expect((await cached(listed)).data.jobsPage.nodes[0]).to.deep.equal({ id, currentPrice: "1500" });
        expect((await cached(plain)).data.job.maxFee).to.equal("2000");
        const after = cache.stats();
        expect(after.misses - before.misses, "the priced answers were computed again").to.equal(2);
        expect(after.hits - before.hits, "the answer that did not price was kept").to.equal(1);
      } finally {
        await db.indexerCheckpoint.deleteMany({});
      }
    });

    it("answers a valid query on its own (without yoga's layers) with yoga's bytes and headers, and errors through yoga", async function () {
      const yoga = createGraphQL(database.db);
      let direct = 0;
      const executeQuery = yoga.executeQuery;
      const counted = Object.assign(yoga, {
        executeQuery: async (body: string, reads: ReadSet) => {
          const text = await executeQuery(body, reads);
          if (text !== null) direct++;
          return text;
        },
      });
      const listening = createServer(graphqlHttpHandler(counted, createResponseCache())).listen(0, "127.0.0.1");
      await new Promise((r) => listening.once("listening", r));
      const url = `http://127.0.0.1:${(listening.address() as { port: number }).port}/graphql`;
      const ask = async (body: object, target: "handler" | "yoga") => {
        const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
        const response =
          target === "handler" ? await fetch(url, init) : await reference.fetch("http://localhost/graphql", init);
        return { type: response.headers.get("content-type"), status: response.status, text: await response.text() };
      };
      try {
        const q = `query($s: JobStatus, $n: Int) { jobs(where: { status: $s }, first: $n, orderBy: postedAt) { id status maxFee } }`;
        // The first answer is yoga's (its headers are learned); the next ones are direct, byte for byte the same.
        for (const [s, n] of [
          ["Open", 3],
          ["Proved", 5],
          ["Claimed", 2],
        ] as const)
          expect(await ask({ query: q, variables: { s, n } }, "handler")).to.deep.equal(
            await ask({ query: q, variables: { s, n } }, "yoga"),
          );
        expect(direct).to.equal(2);
        // A query that fails is answered by yoga, as it always was: the same errors, the same status.
        for (const wrong of [
          { query: q, variables: { s: "Nope", n: 1 } },
          { query: q, variables: { s: "Open", n: 5000 } },
          { query: `{ jobs { secret } }` },
          { query: `{ job(id: "1") { id } }`, operationName: "Missing" },
          // What yoga refuses with 400 is refused, not answered directly.
          { query: q, variables: { s: "Open", n: 1 }, operationName: 5 },
          { query: q, variables: [] },
          { query: q, variables: { s: "Open", n: 1 }, unknown: 1 },
        ]) {
          const [got, want] = [await ask(wrong, "handler"), await ask(wrong, "yoga")];
          expect(got, JSON.stringify(wrong)).to.deep.equal(want);
        }
        expect(direct, "no failing query answered directly").to.equal(2);
        // A subscription posted without asking for a stream: yoga streams it all the same, and it is passed on as a
        // stream (kept nowhere), not read to an end that never comes.
        const leave = new AbortController();
        const stream = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: `subscription { jobs { id } }` }),
          signal: leave.signal,
        });
        expect(stream.status).to.equal(200);
        expect(stream.headers.get("content-type")).to.match(/event-stream|multipart/);
        leave.abort();
      } finally {
        listening.close();
        listening.closeAllConnections();
      }
    });

    it("an event asked for before it is indexed is answered once it is, not the kept null", async function () {
      const { db } = database;
      const id = jobEventId(999_999, 0);
      const q = `{ jobEvent(id: "${id}") { id kind } }`;
      expect((await cached(q)).data.jobEvent).to.equal(null);
      const job = await db.job.findUniqueOrThrow({ where: { id: "5" } });
      await db.jobEvent.create({
        data: {
          id,
          jobId: "5",
          circuitId: job.circuitId,
          kind: "Cancelled",
          blockNumber: 999_999,
          blockHash: "0xb",
          logIndex: 0,
          txHash: "0x01",
          timestamp: 1,
          data: "{}",
        },
      });
      try {
        cache.invalidate({ jobs: [job], provers: false, circuits: false });
        expect((await cached(q)).data.jobEvent).to.deep.equal({ id, kind: "Cancelled" });
      } finally {
        await db.jobEvent.delete({ where: { id } });
        cache.invalidate();
      }
    });

    it("a posted job drops the first pages it joins, not the pages behind a cursor, nor other jobs", async function () {
      const q = `query($where: JobFilter, $after: String) { jobsPage(where: $where, first: 3, after: $after) { nodes { id } pageInfo { endCursor } } }`;
      const first = await cached(q, { where: { status: "Open" } });
      const deep = { where: { status: "Open" }, after: first.data.jobsPage.pageInfo.endCursor };
      await cached(q, deep);
      const job = `{ job(id: "5") { id maxFee } }`;
      await cached(job);
      await cached(`{ marketStats(id: "market") { open } }`);
      const before = cache.stats();
      state.maxId++;
      state.maxPostedAt++;
      const rng = random(3);
      const posted = await database.db.job.create({
        data: { ...jobData(state.maxId, rng, state.maxPostedAt), status: "Open", assignee: null, lockedPrice: null },
      });
      cache.invalidate({ jobs: [posted], provers: false, circuits: false });
      expect((await cached(q, deep)).data).to.deep.equal((await uncached(q, deep)).data);
      await cached(job);
      expect(cache.stats().hits - before.hits, "the page behind the cursor and the other job stay kept").to.equal(2);
      const head = await cached(q, { where: { status: "Open" } });
      expect(head.data.jobsPage.nodes[0].id).to.equal(posted.id);
      expect((await cached(`{ marketStats(id: "market") { open } }`)).data).to.deep.equal(
        (await uncached(`{ marketStats(id: "market") { open } }`)).data,
      );
      expect(cache.stats().misses - before.misses, "the first page and the totals are read again").to.equal(2);
    });

    it("at a page's edges: the row after it leaving, and a job tied with the cursor's postedAt arriving", async function () {
      const { db } = database;
      const rng = random(5);
      const write = async (id: string, data: { status: string; requester: string; postedAt: number }) => {
        const row = await db.job.upsert({
          where: { id },
          create: { ...jobData(Number(id), rng, data.postedAt), ...data, assignee: null },
          update: data,
        });
        cache.invalidate({ jobs: [row], provers: false, circuits: false });
      };
      const same = async (query: string, variables: object) => {
        const got = await cached(query, variables);
        expect(got).to.deep.equal(await uncached(query, variables));
        return got.data.jobsPage;
      };
      const q = `query($where: JobFilter, $after: String) { jobsPage(where: $where, first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`;

      // Two jobs of one requester: the first page holds one, its look-ahead row says there is a next page.
      await write("7001", { status: "Open", requester: "0xdd", postedAt: 5000 });
      await write("7002", { status: "Open", requester: "0xdd", postedAt: 5001 });
      const where = { requester: "0xdd", status: "Open" };
      expect((await same(q, { where })).pageInfo.hasNextPage).to.equal(true);
      await write("7001", { status: "Claimed", requester: "0xdd", postedAt: 5000 });
      expect((await same(q, { where })).pageInfo.hasNextPage, "the look-ahead row left").to.equal(false);

      // Three jobs posted in one second (ids order them): 9000 and 7000 Open, 8000 not yet.
      for (const [id, status] of [
        ["9000", "Open"],
        ["8000", "Claimed"],
        ["7000", "Open"],
      ])
        await write(id, { status, requester: "0xee", postedAt: 6000 });
      const tied = { requester: "0xee", status: "Open" };
      const page1 = await same(q, { where: tied });
      expect(page1.nodes).to.deep.equal([{ id: "9000" }]);
      expect((await same(q, { where: tied, after: page1.pageInfo.endCursor })).nodes).to.deep.equal([{ id: "7000" }]);
      await write("8000", { status: "Open", requester: "0xee", postedAt: 6000 });
      expect(
        (await same(q, { where: tied, after: page1.pageInfo.endCursor })).nodes,
        "a job tied with the cursor's postedAt joined the page after it",
      ).to.deep.equal([{ id: "8000" }]);
    });

    it("keeps no answer that a commit landing while it was computed may have changed", async function () {
      const { db } = database;
      let gate: Promise<void> | null = null;
      let open!: () => void;
      let entered!: () => void;
      const reading = new Promise<void>((r) => (entered = r));
      const slow = new Proxy(db, {
        get(target, key) {
          if (key === "job")
            return new Proxy(db.job, {
              get: (model, method) =>
                method === "findUnique"
                  ? async (args: Parameters<typeof db.job.findUnique>[0]) => {
                      const row = await db.job.findUnique(args);
                      entered();
                      if (gate) await gate;
                      return row;
                    }
                  : Reflect.get(model, method, model),
            });
          return Reflect.get(target, key, target);
        },
      });
      const slowCache = createResponseCache({ keepFirstAnswers: true });
      const slowServer = await listen(slow, slowCache);
      try {
        for (const [id, touchedId, kept] of [
          ["7", "7", false],
          ["8", "9", true],
        ] as const) {
          gate = new Promise((r) => (open = r));
          const q = `{ job(id: "${id}") { id maxFee } }`;
          const answer = cached(q, {}, slowServer.base);
          await reading;
          const row = await db.job.update({ where: { id: touchedId }, data: { maxFee: String(Date.now()) } });
          slowCache.invalidate({ jobs: [row], provers: false, circuits: false });
          open();
          await answer;
          gate = null;
          const misses = slowCache.stats().misses;
          expect((await cached(q, {}, slowServer.base)).data).to.deep.equal((await uncached(q)).data);
          expect(slowCache.stats().misses - misses, `job ${id}, job ${touchedId} changed`).to.equal(kept ? 0 : 1);
        }
      } finally {
        slowServer.server.close();
      }
    });

    it("answers a burst of identical queries with one read; keeps no errors; expires; passes streams through", async function () {
      const { db } = database;
      let reads = 0;
      // Counts the lists' reads (resolvers.ts jobsPage reads with the SQL reader).
      const reader = sqlReaderOf(db);
      const countingReader: SqlReader = {
        ...reader,
        rows: (query) => {
          reads++;
          return reader.rows(query);
        },
      };
      const counting = new Proxy(db, {
        get: (target, key) => (key === SQL_READER ? countingReader : Reflect.get(target, key, target)),
      });
      const shortCache = createResponseCache({ ttlMs: 300, keepFirstAnswers: true });
      const feed = new JobChangeFeed();
      const burst = await listen(counting, shortCache, feed);
      try {
        const q = `{ jobsPage(first: 7) { nodes { id maxFee } } }`;
        const answers = await Promise.all(Array.from({ length: 10 }, () => cached(q, {}, burst.base)));
        expect(reads).to.equal(1);
        for (const a of answers) expect(a).to.deep.equal(answers[0]);
        expect(shortCache.stats()).to.include({ hits: 9, misses: 1 });
        await new Promise((r) => setTimeout(r, 350));
        await cached(q, {}, burst.base);
        expect(reads, "read again once the time-to-live is over").to.equal(2);

        const bad = `query($first: Int) { jobsPage(first: $first) { nodes { id } } }`;
        for (let i = 0; i < 2; i++)
          expect((await cached(bad, { first: 1000 }, burst.base)).errors![0].message).to.match(
            /first must be between 1 and 100/,
          );
        expect(shortCache.stats().misses, "an error is asked of the database each time").to.equal(4);

        const huge = await fetch(`${burst.base}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: `{ circuits { id } }`,
            variables: { pad: "x".repeat(MAX_GRAPHQL_BODY_BYTES) },
          }),
        });
        expect(huge.status).to.equal(413);
        expect(((await huge.json()) as Answer).errors![0].message).to.match(/larger than 100000 bytes/);

        // A subscription (server-sent events) goes straight to yoga, uncached.
        const stream = await fetch(`${burst.base}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "text/event-stream" },
          body: JSON.stringify({ query: `subscription { jobStatus(id: "3") { id status } }` }),
        });
        expect(stream.headers.get("content-type")).to.match(/text\/event-stream/);
        const reader = stream.body!.getReader();
        const message = (async () => {
          let text = "";
          while (!text.includes("data:")) text += new TextDecoder().decode((await reader.read()).value);
          return text;
        })();
        await new Promise((r) => setTimeout(r, 100));
        feed.publish(["3"]);
        expect(await message).to.match(/"id":"3"/);
        await reader.cancel();
      } finally {
        burst.server.close();
      }
    });
  });
}

describe("coordinator GraphQL response cache: which answers are kept", function () {
  const answer = (text: string): KeptResponse => ({ status: 200, headers: {}, body: Buffer.from(text) });
  const readJob = (id: string) => {
    const reads = new ReadSet();
    reads.job(id);
    reads.answered = true;
    return reads;
  };
  const miss = (cache: ResponseCache, key: string) => cache.begin(key).finish(answer(key), readJob(key));

  it("keeps an answer asked for a second time, not one asked once", function () {
    const cache = createResponseCache({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) miss(cache, `one-off ${i}`);
    expect(cache.stats().entries, "no one-off kept").to.equal(0);
    miss(cache, "again");
    expect(cache.lookup("again")).to.equal(undefined);
    miss(cache, "again");
    expect(cache.lookup("again")?.body.toString()).to.equal("again");
    // Remembered across a commit that dropped it: asked after the commit, it is kept at once.
    cache.invalidate();
    miss(cache, "again");
    expect(cache.lookup("again")?.body.toString()).to.equal("again");
    // Asked steadily among other keys (fewer than a generation between askings), it stays remembered: each asking
    // records it anew, so it never ages out as it would have after 100 to 200 others.
    for (let round = 0; round < 5; round++) {
      cache.invalidate();
      for (let i = 0; i < 90; i++) miss(cache, `round ${round} key ${i}`);
      miss(cache, "again");
      expect(cache.lookup("again")?.body.toString(), `round ${round}`).to.equal("again");
    }
    // Forgotten after two generations of other keys (100 each).
    cache.invalidate();
    for (let i = 0; i < 200; i++) miss(cache, `later ${i}`);
    miss(cache, "again");
    expect(cache.lookup("again")).to.equal(undefined);
  });

  it("keeps a first answer that other requests waited for (a burst), and gives it to them", async function () {
    const cache = createResponseCache();
    const ticket = cache.begin("burst");
    const waiting = cache.pending("burst")!;
    ticket.finish(answer("burst"), readJob("1"));
    expect((await waiting)?.body.toString()).to.equal("burst");
    expect(cache.lookup("burst")?.body.toString()).to.equal("burst");
    // keepFirstAnswers: every current answer is kept.
    const keepAll = createResponseCache({ keepFirstAnswers: true });
    miss(keepAll, "once");
    expect(keepAll.lookup("once")?.body.toString()).to.equal("once");
  });
});

async function listen(db: Db, responseCache: ResponseCache, feed = new JobChangeFeed()) {
  const server = buildHttpApp({ db, responseCache, jobChanges: feed }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}
