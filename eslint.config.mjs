// Lint rules that catch the costliest bugs in a network server: unhandled promises and
// switches that forget a message type. Type-aware, so it reads tsconfig.json. Also keeps the
// dependency direction of DESIGN §1 true: each folder of src/ may import only the ones below it.
import tseslint from 'typescript-eslint';

// src folder (or top-level module) -> the src folders/modules it may import besides itself.
// DESIGN §1: protocol needs nothing; serializers and core need protocol (and util); transports
// need protocol and serializers; auth and client build on core and transports; bridges, uplink
// and ops on client and the part seam; history implements core's EventHistory port; gateway.ts
// wires them; cli drives the gateway.
const layers = {
  protocol: [],
  util: [],
  serializers: ['protocol', 'util'],
  core: ['protocol', 'serializers', 'util'],
  transports: ['protocol', 'serializers', 'util'],
  client: ['protocol', 'serializers', 'transports', 'util'],
  config: ['protocol', 'serializers', 'transports', 'core', 'util'],
  auth: ['protocol', 'serializers', 'transports', 'core', 'client', 'config', 'util'],
  meta: ['protocol', 'transports', 'core', 'client', 'util'],
  // What parts offer the cloud (admin) and the uplink carries: a seam beside gateway-part.
  'cloud-services': ['protocol', 'client', 'util'],
  'gateway-part': ['protocol', 'transports', 'core', 'config', 'cloud-services', 'util'],
  bridges: ['protocol', 'serializers', 'transports', 'client', 'config', 'gateway-part', 'util'],
  uplink: ['protocol', 'serializers', 'transports', 'client', 'auth', 'config', 'gateway-part', 'cloud-services', 'util'],
  ops: ['protocol', 'serializers', 'transports', 'client', 'config', 'gateway-part', 'util'],
  history: ['protocol', 'serializers', 'core', 'config', 'gateway-part', 'util'],
  // What a new config changes (pure), for the gateway's reload.
  'gateway-reload': ['core', 'config', 'util'],
  admin: ['protocol', 'client', 'config', 'gateway-part', 'gateway-reload', 'cloud-services', 'util'],
  gateway: [
    'protocol',
    'serializers',
    'transports',
    'core',
    'auth',
    'client',
    'config',
    'meta',
    'history',
    'gateway-part',
    'gateway-reload',
    'cloud-services',
    'util',
  ],
};
const everything = [...Object.keys(layers), 'cli', 'index'];

/** One config block per layer and file depth: a relative import climbing to src/ and naming a
 * folder the layer may not use is an error. Per depth, so `../config` inside src/bridges/mqtt
 * (bridges' own config.ts) is not mistaken for src/config. */
function layerRules() {
  const topLevelFiles = ['gateway-part', 'gateway', 'cloud-services', 'gateway-reload'];
  const blocks = [];
  for (const [layer, allowed] of Object.entries(layers)) {
    const forbidden = everything.filter((f) => f !== layer && !allowed.includes(f));
    const message = `DESIGN §1: src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'nothing else in src'} (and itself)`;
    // depth 0: a top-level file (src/gateway.ts imports './core/…'); n: src/<layer>/ n-1 folders down.
    const depths = topLevelFiles.includes(layer) ? [0] : [1, 2, 3];
    for (const depth of depths) {
      const files = depth === 0 ? [`src/${layer}.ts`] : [`src/${layer}/${'*/'.repeat(depth - 1)}*.ts`];
      const up = depth === 0 ? '\\./' : `(\\.\\./){${depth}}`;
      const regex = `^${up}(${forbidden.join('|')})(/|$)`;
      blocks.push({ files, rules: { 'no-restricted-imports': ['error', { patterns: [{ regex, message }] }] } });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'firmware-bridge/**', '.bench/**', 'bin/**', 'eslint.config.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  ...layerRules(),
  {
    // DESIGN §3: error and close-reason URIs live in one catalog (docs/errors.md is checked
    // against it), so src/ names them through ErrorUri and never spells one inline. Tests may:
    // they assert what goes on the wire.
    files: ['src/**/*.ts'],
    ignores: ['src/protocol/error-uris.ts', 'src/protocol/wampgate-error-uris.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['Literal', 'TemplateElement'].map((node) => ({
          selector: `${node}[${node === 'Literal' ? 'value' : 'value.raw'}=/^(wamp|wampgate)[.](error|close)[.]/]`,
          message: 'Error and close URIs come from the catalog (ErrorUri in src/protocol/error-uris.ts); add a new one there and to docs/errors.md.',
        })),
      ],
    },
  },
  {
    // node:test's test() returns a promise the runner tracks itself.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
    },
  },
);
