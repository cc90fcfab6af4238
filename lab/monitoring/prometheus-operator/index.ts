// Public entry of the prometheus-operator translation (see translate.ts); the lab and the tests import from here.
export { translate, expandEnv, DEFAULT_RULES_DIR } from './translate.js';
export {
  kubePrometheusStack,
  kpsFullname,
  KPS_ALERTMANAGER_CONFIG,
  KPS_VERSIONS,
  type KpsOptions,
  type KpsPreset,
} from './presets.js';
export { NotTranslatedError, InvalidObjectError } from './fields.js';
export { labelSelectorMatches, selectNamespaces } from './selectors.js';
export type * from './types.js';
