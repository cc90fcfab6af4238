// Builds the TorChain CustomResourceDefinition from the schemas in torchain.ts.
import {
  GROUP,
  KIND,
  PLURAL,
  PRINTER_COLUMNS,
  SHORT_NAMES,
  SINGULAR,
  TorChainSpecSchema,
  TorChainStatusSchema,
  VERSION,
  plainSchema,
} from './torchain.js';

/**
 * Drops what a structural schema may not hold where it sits: `additionalProperties: false` is the default for a
 * structural schema with `properties` and Kubernetes rejects it beside them.
 */
function toStructural(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toStructural);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    out[key] = toStructural(value);
  }
  return out;
}

export function buildCrd(): Record<string, unknown> {
  const spec = toStructural(plainSchema(TorChainSpecSchema)) as Record<string, unknown>;
  const status = toStructural(plainSchema(TorChainStatusSchema)) as Record<string, unknown>;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      annotations: { 'torchain.dev/generated-by': 'npm run gen:crd (operator/src/api/torchain.ts)' },
    },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: {
            openAPIV3Schema: {
              description: 'TorChain is one hop of a multi-hop VPN chain.',
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status,
              },
            },
          },
        },
      ],
    },
  };
}
