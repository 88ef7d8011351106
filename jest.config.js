/**
 * Two projects, each runnable alone: `unit` (specs beside the code, fakes allowed) and `e2e`
 * (test/, the real AppModule on port 0 and real ws clients).
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
      transform: tsJest,
      moduleFileExtensions: ['js', 'json', 'ts'],
    },
  ],
};
