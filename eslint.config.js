// eslint.config.js: one lint configuration for every TypeScript workspace (the dashboard adds its own rules).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', 'web/.svelte-kit/**', 'web/build/**', '.drover/**', '.test-data/**', 'artifacts/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly',
        AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly',
        fetch: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly', queueMicrotask: 'readonly',
        setImmediate: 'readonly', performance: 'readonly', crypto: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "Property[key.name='synchronize'][value.value=true]", message: 'Schema changes go through migrations.' },
        { selector: "Property[key.name='shell'][value.value=true]", message: 'Start processes with an argv array, never a shell.' },
        { selector: "CallExpression[callee.property.name='only']", message: 'No focused tests.' },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts', 'scheduler/src/**/*.ts', 'cli/src/**/*.ts'],
    ignores: ['server/src/config/**', 'server/src/platform/config.ts', 'server/src/main.ts', '**/*.test.ts', 'server/src/testing/**', 'scheduler/src/testing/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration from the parsed config, not process.env.' }],
    },
  },
);
