/**
 * The subgraph's entities and the coordinator's GraphQL types must match field for field, so that one client
 * query works against either: the same entities (less the subgraph's internal ones), the same field names, the
 * same nullability and the same types, where an amount is BigInt in the subgraph and String (the same JSON) in
 * the coordinator. The comparison is also shown to fail on a changed field.
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

/** The Graph's directives and scalars, declared so graphql-js can read the subgraph schema. */
const GRAPH_PRELUDE = `
directive @entity(immutable: Boolean, timeseries: Boolean) on OBJECT
directive @derivedFrom(field: String!) on FIELD_DEFINITION
scalar BigInt
scalar Bytes
scalar BigDecimal
scalar Int8
`;
/** Subgraph entities that only serve its own bookkeeping (see subgraph/schema.graphql). */
const SUBGRAPH_INTERNAL = ["ProofTimes"];
/** Scalars that are the same JSON in both: the subgraph's BigInt is the coordinator's decimal String. */
const SAME_JSON: Record<string, string> = { BigInt: "String" };

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

/** Every difference between the subgraph's entities and the coordinator's types, as readable lines. */
export function schemaDifferences(subgraphSdl: string, coordinatorSdl: string): string[] {
  const subgraph = buildSchema(GRAPH_PRELUDE + subgraphSdl);
  const coordinator = buildSchema(coordinatorSdl);
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
    for (const field of new Set([...Object.keys(fields), ...Object.keys(otherFields)])) {
      if (!(field in otherFields)) differences.push(`${name}.${field}: only in the subgraph`);
      else if (!(field in fields)) differences.push(`${name}.${field}: only in the coordinator`);
      else {
        const mine = String(fields[field].type).replace(/\w+/g, (t) => SAME_JSON[t] ?? t);
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

  it("has the same entities, fields, nullability and types", function () {
    expect(schemaDifferences(subgraphSdl, coordinatorSdl)).to.deep.equal([]);
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
    const missing = coordinatorSdl
      .replace("type MarketStats {", "type MarketTotals {")
      .replace('marketStats(id: ID = "market"): MarketStats', 'marketStats(id: ID = "market"): MarketTotals');
    expect(schemaDifferences(subgraphSdl, missing)).to.deep.equal([
      "MarketStats: an entity of the subgraph, not a type of the coordinator",
    ]);
  });
});
