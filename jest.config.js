/** Unit tests run under Pulumi mocks; see test/mocks.ts. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test", "<rootDir>/components"],
  testMatch: ["**/*.test.ts"],
  testTimeout: 60000,
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: false, diagnostics: { warnOnly: false } }] },
};
