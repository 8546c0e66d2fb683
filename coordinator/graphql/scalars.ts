/**
 * The Graph's scalars as the coordinator reads and writes them: BigInt a decimal string (in JSON; given as a string
 * or an integer literal), Bytes 0x-prefixed hex (given in any case, with or without 0x; answered lowercase), so that
 * a query's variables and answers are the same JSON on the coordinator and on a subgraph.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });

function parseBigInt(value: unknown): string {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^-?[0-9]+$/.test(text))
    throw refuse(
      `BigInt: ${JSON.stringify(value)?.slice(0, 80)} is not a whole number: give a decimal string, e.g. "1000000000000000000"`,
    );
  return BigInt(text).toString();
}

function parseBytes(value: unknown): string {
  if (typeof value !== "string" || !/^(0x)?([0-9a-fA-F]{2})*$/.test(value))
    throw refuse(
      `Bytes: ${JSON.stringify(value)?.slice(0, 80)} is not hex bytes: give 0x and an even number of hex digits, e.g. an address "0x5fbdb2315678afecb367f032d93f642f64180aa3"`,
    );
  return `0x${value.replace(/^0x/, "").toLowerCase()}`;
}

const literal =
  (parse: (v: unknown) => string, name: string) =>
  (node: ValueNode): string => {
    if (node.kind === Kind.STRING) return parse(node.value);
    if (node.kind === Kind.INT && name === "BigInt") return parse(node.value);
    throw refuse(`${name}: give a string, e.g. ${name === "BigInt" ? '"1000"' : '"0xabcd"'}`);
  };

export const BigIntScalar = new GraphQLScalarType({
  name: "BigInt",
  serialize: (v) => (typeof v === "bigint" ? v.toString() : String(v)),
  parseValue: parseBigInt,
  parseLiteral: literal(parseBigInt, "BigInt"),
});

export const BytesScalar = new GraphQLScalarType({
  name: "Bytes",
  serialize: (v) => String(v).toLowerCase(),
  parseValue: parseBytes,
  parseLiteral: literal(parseBytes, "Bytes"),
});
