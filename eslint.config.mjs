import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'trainer/dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'runs/', 'custom-elements.json', 'test/browser/pages/**/dist/', '.scratch/', 'trainer/fused/assembly/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Config files and Node scripts.
    files: ['*.mjs', '*.js', 'test/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Plain browser modules (demo pages and browser-test harnesses load them without a build step).
    files: ['demo/**/*.js', 'test/browser/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
