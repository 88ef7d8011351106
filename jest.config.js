/**
 * Five projects, each runnable alone (`npm run test:<name>`), all run by `npm test`:
 * - `unit`: specs beside the code (src/), built from fakes and injected clocks;
 * - `e2e`: test/, the real AppModule on port 0 and real ws clients;
 * - `redis`: test/redis/, several instances against a real Redis (REDIS_URL or redis-server);
 * - `browser`: test/browser/, the console page in Debian's Chromium;
 * - `client`: test/client/, the client package in client/ against the real server, and its
 *   packaging.
 * @type {import('jest').Config}
 */
// Transpile only (isolatedModules in tsconfig.json): `npm run typecheck` does the type-checking.
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
const CLIENT_BUNDLE = '<rootDir>/test/support/client-bundle.ts';

/**
 * A project over the e2e specs of one folder of test/ ('' for test/ itself, minus `ignored`).
 * @param {string} displayName
 * @param {string} folder
 * @param {string[]} ignored folders of test/ that other projects run
 */
function testProject(displayName, folder, ignored = []) {
  return {
    displayName,
    testEnvironment: 'node',
    rootDir: '.',
    roots: [`<rootDir>/test/${folder}`],
    testRegex: '.*\\.e2e-spec\\.ts$',
    testPathIgnorePatterns: ['/node_modules/', ...ignored.map((name) => `<rootDir>/test/${name}/`)],
    transform: tsJest,
    moduleFileExtensions: ['js', 'json', 'ts'],
    // The console serves the client's browser bundle: build it when a checkout has none.
    globalSetup: CLIENT_BUNDLE,
  };
}

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
    testProject('e2e', '', ['redis', 'browser', 'client']),
    testProject('redis', 'redis'),
    testProject('browser', 'browser'),
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
      globalSetup: CLIENT_BUNDLE,
    },
  ],
};
