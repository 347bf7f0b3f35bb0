import { defineConfig } from "vitest/config";

// Under CI a JSON report is written too, so .ci/run can print a plain "N passed, N failed" line.
const ci = !!process.env.CI;
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000, pool: "forks",
    reporters: ci ? ["default", "json"] : ["default"],
    outputFile: ci ? { json: ".ci/vitest-report.json" } : undefined,
  },
});
