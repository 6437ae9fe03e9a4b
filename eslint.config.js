// Lint rules that encode the architecture (see ../shared/docs/STYLE.md, "Dependency direction"):
// no `any`, no import cycles, no floating promises, no console in library code. Layering and
// index-only crossings between src/ folders are checked by scripts/check-layers.mjs.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

/** The browser globals the viewer (web/) uses; a new one is added here, so that a typo is still an error. */
const BROWSER_GLOBALS = [
  'window', 'document', 'location', 'history', 'localStorage', 'fetch', 'Headers', 'Response', 'URLSearchParams',
  'FormData', 'File', 'Blob', 'Node', 'Element', 'Event', 'EventListener', 'HTMLElement', 'HTMLInputElement',
  'HTMLSelectElement', 'HTMLButtonElement', 'HTMLFormElement', 'HTMLDivElement', 'HTMLParagraphElement',
  'HTMLSpanElement', 'HTMLCanvasElement', 'HTMLOutputElement', 'HTMLTableSectionElement', 'HTMLTableRowElement',
  'HTMLElementTagNameMap', 'PointerEvent', 'DragEvent', 'ImageBitmap', 'createImageBitmap', 'ResizeObserver',
  'requestAnimationFrame', 'RequestInit',
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'native/build/**', 'web/dist/**', 'coverage/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    settings: { 'import-x/resolver': { typescript: true, node: true } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/output.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // the viewer: plain browser ES modules with JSDoc types, served as they are (no bundler, no Node globals)
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: Object.fromEntries(BROWSER_GLOBALS.map((name) => [name, 'readonly'])),
    },
    rules: {
      'no-undef': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      'prefer-const': 'error',
      eqeqeq: 'error',
      'no-var': 'error',
    },
  },
);
