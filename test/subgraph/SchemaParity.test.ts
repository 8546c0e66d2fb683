/**
 * The subgraph's entities and the coordinator's GraphQL types must match field for field, so that one client
 * query works against either: the same entities (less the subgraph's internal ones), the same field names, the
 * same nullability and the same types (BigInt amounts, Bytes addresses and hashes). One difference is meant, and only it is allowed: Job.currentPrice, the price a claim would lock
 * now, is the coordinator's alone (it depends on the time of the query, which a subgraph's stored entities cannot).
 * The comparison is also shown to fail on a changed field.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  buildSchema,
  type GraphQLNamedType,
  GraphQLEnumType,
  GraphQLObjectType,
  type GraphQLSchema,
  isObjectType,
} from "graphql";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { deriveQueryApi } from "../../coordinator/graphql/graphNodeApi.ts";
import { GRAPH_PRELUDE } from "../helpers/subgraphReplay.ts";
/** Subgraph entities that only serve its own bookkeeping (see subgraph/schema.graphql). */
const SUBGRAPH_INTERNAL = ["ProofTimes"];

const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

function entityTypes(schema: GraphQLSchema, names?: string[]): Map<string, GraphQLObjectType> {
  const out = new Map<string, GraphQLObjectType>();
  for (const type of Object.values(schema.getTypeMap()) as GraphQLNamedType[]) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    if (names ? names.includes(type.name) : type.astNode?.directives?.some((d) => d.name.value === "entity"))
      out.set(type.name, type);
  }
  return out;
}

/**
 * The coordinator's fields that a subgraph cannot have: Job.currentPrice is priced at the time of the query, and a
 * subgraph serves what its mappings stored.
 */
const COORDINATOR_ONLY = ["Job.currentPrice"];

/**
 * Every difference between the subgraph's entities and the coordinator's types, as readable lines, but for the
 * coordinator's fields in `coordinatorOnly`, which must be the coordinator's alone.
 */
export function schemaDifferences(
  subgraphSdl: string,
  coordinatorSdl: string,
  coordinatorOnly = COORDINATOR_ONLY,
): string[] {
  const subgraph = buildSchema(GRAPH_PRELUDE + subgraphSdl);
  const coordinator = buildSchema(deriveQueryApi(coordinatorSdl));
  const entities = entityTypes(subgraph);
  for (const internal of SUBGRAPH_INTERNAL) entities.delete(internal);
  const differences: string[] = [];
  const coordinatorTypes = entityTypes(coordinator, [...entities.keys()]);
  for (const [name, entity] of entities) {
    const other = coordinatorTypes.get(name);
    if (other === undefined) {
      differences.push(`${name}: an entity of the subgraph, not a type of the coordinator`);
      continue;
    }
    const fields = entity.getFields();
    const otherFields = other.getFields();
    const allowedHere = coordinatorOnly.filter((f) => f.startsWith(`${name}.`)).map((f) => f.slice(name.length + 1));
    for (const field of new Set([...Object.keys(fields), ...Object.keys(otherFields), ...allowedHere])) {
      if (coordinatorOnly.includes(`${name}.${field}`)) {
        if (field in fields)
          differences.push(`${name}.${field}: allowed in the coordinator only, but the subgraph has it too`);
        else if (!(field in otherFields))
          differences.push(`${name}.${field}: allowed in the coordinator only, but the coordinator has none`);
      } else if (!(field in otherFields)) differences.push(`${name}.${field}: only in the subgraph`);
      else if (!(field in fields)) differences.push(`${name}.${field}: only in the coordinator`);
      else {
        const mine = String(fields[field].type);
        const theirs = String(otherFields[field].type);
        if (mine !== theirs)
          differences.push(`${name}.${field}: ${fields[field].type} in the subgraph, ${theirs} in the coordinator`);
      }
    }
  }
  for (const enumName of ["JobStatus"]) {
    const a = subgraph.getType(enumName) as GraphQLEnumType;
    const b = coordinator.getType(enumName) as GraphQLEnumType;
    const values = (t: GraphQLEnumType) =>
      t
        .getValues()
        .map((v) => v.name)
        .join(",");
    if (values(a) !== values(b))
      differences.push(`${enumName}: ${values(a)} in the subgraph, ${values(b)} in the coordinator`);
  }
  return differences;
}

describe("schema parity: subgraph entities and coordinator GraphQL", function () {
  const subgraphSdl = read("subgraph/schema.graphql");
  const coordinatorSdl = read("coordinator/graphql/schema.graphql");

  it("has the same entities, fields, nullability and types, but for the coordinator's Job.currentPrice", function () {
    expect(schemaDifferences(subgraphSdl, coordinatorSdl)).to.deep.equal([]);
    // That is the one difference there is, and the one allowed: any other field of the coordinator's alone is named.
    expect(schemaDifferences(subgraphSdl, coordinatorSdl, [])).to.deep.equal([
      "Job.currentPrice: only in the coordinator",
    ]);
    const another = coordinatorSdl.replace("  lockedPrice: BigInt\n", "  lockedPrice: BigInt\n  lockedAt: Int\n");
    expect(schemaDifferences(subgraphSdl, another)).to.deep.equal(["Job.lockedAt: only in the coordinator"]);
    // An allowed difference that is no longer one is named too, so the allowance cannot outlive its reason.
    const both = subgraphSdl.replace("  lockedPrice: BigInt\n", "  lockedPrice: BigInt\n  currentPrice: BigInt\n");
    expect(schemaDifferences(both, coordinatorSdl)).to.deep.equal([
      "Job.currentPrice: allowed in the coordinator only, but the subgraph has it too",
    ]);
    const none = coordinatorSdl.replace("\n  currentPrice: BigInt @coordinatorOnly\n", "\n");
    expect(schemaDifferences(subgraphSdl, none)).to.deep.equal([
      "Job.currentPrice: allowed in the coordinator only, but the coordinator has none",
    ]);
    // The entities compared are the ones a client uses.
    expect([...entityTypes(buildSchema(GRAPH_PRELUDE + subgraphSdl)).keys()].sort()).to.deep.equal(
      ["Circuit", "Job", "JobEvent", "MarketStats", "ProofTimes", "Prover"].sort(),
    );
  });

  it("names the difference when a field is renamed, retyped or left out", function () {
    const renamed = subgraphSdl.replace("  jobsMissed: Int!", "  jobsLate: Int!");
    expect(schemaDifferences(renamed, coordinatorSdl)).to.deep.equal([
      "Prover.jobsLate: only in the subgraph",
      "Prover.jobsMissed: only in the coordinator",
    ]);
    const retyped = coordinatorSdl.replace("  attempt: Int!", "  attempt: String!");
    expect(schemaDifferences(subgraphSdl, retyped)).to.deep.equal([
      "Job.attempt: Int! in the subgraph, String! in the coordinator",
    ]);
    const missing = coordinatorSdl.replace(
      "type MarketStats @entity(immutable: false) {",
      "type MarketTotals @entity(immutable: false) {",
    );
    expect(schemaDifferences(subgraphSdl, missing)).to.deep.equal([
      "MarketStats: an entity of the subgraph, not a type of the coordinator",
    ]);
  });
});
