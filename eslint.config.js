import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "types/", "circuits/artifacts/", ".tools/", "coordinator/db/generated/",
    // AssemblyScript, checked by `graph build` (transitions.ts, shared with Node, is linted).
    "subgraph/src/mapping.ts", "subgraph/src/portable.d.ts", "subgraph/generated/", "subgraph/build/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  {
    files: ["test/**/*.ts"],
    languageOptions: { globals: { describe: "readonly", it: "readonly", after: "readonly", before: "readonly" } },
  },
);
