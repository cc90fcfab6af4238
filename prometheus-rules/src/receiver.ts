// The name of the operator's receiver, shared by the route (alertmanager.ts) and the rule that watches its failures
// (rules.ts). The Prometheus Operator prefixes an AlertmanagerConfig's receivers with `<namespace>/<name>/`.
export const RECEIVER = 'torchain-operator';

/** Matches the receiver in a plain alertmanager.yml and in every AlertmanagerConfig the Prometheus Operator merged. */
export const RECEIVER_NAME_REGEX = `([^/]+/[^/]+/)?${RECEIVER}`;
