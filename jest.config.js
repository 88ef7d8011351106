/**
 * Three projects, each runnable alone: `unit` (specs beside the code, fakes allowed), `e2e`
 * (test/, the real AppModule on port 0 and real ws clients) and `client` (test/client: the
 * client package in client/ against the real server, and its packaging).
 * @type {import('jest').Config}
 */
// Transpile only (isolatedModules in tsconfig.json): `npm run typecheck` does the type-checking.
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

module.exports = {
  // A global option: jest ignores it inside a project. Every wait in a test has its own, shorter
  // timeout; this only bounds a test that forgot one.
  testTimeout: 20000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: 'src',
      testRegex: '.*\\.spec\\.ts$',
      transform: tsJest,
      moduleFileExtensions: ['js', 'json', 'ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      roots: ['<rootDir>/test'],
      testRegex: '.*\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/client/'],
      transform: tsJest,
      moduleFileExtensions: ['js', 'json', 'ts'],
      // The console serves the client's browser bundle: build it when a checkout has none.
      globalSetup: '<rootDir>/test/support/client-bundle.ts',
    },
    {
      displayName: 'client',
      testEnvironment: 'node',
      rootDir: '.',
      roots: ['<rootDir>/test/client'],
      testRegex: '.*\\.spec\\.ts$',
      transform: tsJest,
      // client/src imports its siblings as './x.js' (ESM); here they are the .ts sources.
      moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
      moduleFileExtensions: ['js', 'json', 'ts'],
      globalSetup: '<rootDir>/test/support/client-bundle.ts',
    },
  ],
};
