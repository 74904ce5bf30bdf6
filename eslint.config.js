import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "chart/**", ".cache/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    files: ["**/test/**", "bench/**", "hack/**"],
    rules: {
      "no-console": "off",
      "@typescript-eslint/no-unused-expressions": "off",
      // Tests poke at parsed JSON and broken manifests on purpose.
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
);
