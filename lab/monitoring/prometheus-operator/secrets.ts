// Secret lookups as prometheus-operator's assets.StoreBuilder.GetSecretKey does them: by namespace (always the
// referencing object's own namespace), with its error messages; a missing Secret or key makes the referencing
// object invalid.
import { InvalidObjectError } from './fields.js';
import type { KubeObject, SecretKeySelector } from './types.js';

export class SecretStore {
  private readonly secrets = new Map<string, Record<string, string>>();

  constructor(objects: KubeObject[]) {
    for (const o of objects) {
      if (o.kind !== 'Secret' || (o.apiVersion !== 'v1' && o.apiVersion !== undefined)) continue;
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.data ?? {})) data[k] = Buffer.from(String(v), 'base64').toString('utf8');
      // The API server folds stringData into data (stringData wins).
      for (const [k, v] of Object.entries(o.stringData ?? {})) data[k] = String(v);
      this.secrets.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, data);
    }
  }

  /** The value of `sel.key` in Secret `namespace/sel.name`; throws as GetSecretKey does when it is missing. */
  get(namespace: string, sel: SecretKeySelector): string {
    const secret = this.secrets.get(`${namespace}/${sel.name}`);
    if (!secret) throw new InvalidObjectError(`unable to get secret "${sel.name}": secrets "${sel.name}" not found`);
    if (!(sel.key in secret)) throw new InvalidObjectError(`key "${sel.key}" in secret "${sel.name}" not found`);
    return secret[sel.key]!;
  }

  /** The raw value, or undefined when the Secret or the key is absent (loadConfigurationFromSecret's fallbacks). */
  find(namespace: string, name: string, key: string): string | undefined {
    return this.secrets.get(`${namespace}/${name}`)?.[key];
  }
}
