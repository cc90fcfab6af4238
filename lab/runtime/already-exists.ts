// The lab creates cluster objects that may already be there (a second chain's namespace, a restarted step, a node
// registering again): a create answered 409 AlreadyExists is success; every other failure is thrown on.
import { statusCodeOf } from '../../operator/src/adapters/kube/errors.js';

/** `.catch(ignoreExists)` on a client-node create. */
export function ignoreExists(err: unknown): void {
  if (statusCodeOf(err) !== 409) throw err;
}
