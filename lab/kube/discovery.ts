// discovery.k8s.io/v1 EndpointSlice, served like the real API server: the kind kube-proxy, CoreDNS and Prometheus'
// `endpointslice` discovery read. Written by controllers/endpointslice.ts for Services with a selector, and by hand
// for Services without one. https://kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1/
import type { FieldProblem } from './errors.js';
import { AGE_COLUMN } from './table.js';
import type { KObject, Obj, ResourceType } from './types.js';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function validateEndpointSlice(o: KObject, old: KObject | undefined): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!ADDRESS_TYPES.includes(String(o.addressType)))
    out.push({
      field: 'addressType',
      message: o.addressType
        ? `Unsupported value: ${JSON.stringify(o.addressType)}: supported values: "FQDN", "IPv4", "IPv6"`
        : 'Required value',
    });
  if (old && old.addressType !== o.addressType)
    out.push({ field: 'addressType', message: `Invalid value: ${JSON.stringify(o.addressType)}: field is immutable` });
  ((o.endpoints as Obj[] | undefined) ?? []).forEach((e, i) => {
    const addresses = e.addresses as unknown[] | undefined;
    if (!Array.isArray(addresses) || addresses.length === 0)
      out.push({ field: `endpoints[${i}].addresses`, message: 'Required value: must contain at least 1 address' });
  });
  return out;
}

/** kubectl's columns: ports and the first three addresses, `<unset>` when there are none. */
function endpointSliceCells(o: KObject): Record<string, unknown> {
  const ports = ((o.ports as Obj[] | undefined) ?? []).map((p) => String(p.port ?? ''));
  const addresses = ((o.endpoints as Obj[] | undefined) ?? []).flatMap((e) => (e.addresses as string[]) ?? []);
  const shown = addresses.slice(0, 3).join(',');
  return {
    Ports: ports.length ? ports.join(',') : '<unset>',
    Endpoints: addresses.length
      ? addresses.length > 3
        ? `${shown} + ${addresses.length - 3} more...`
        : shown
      : '<unset>',
  };
}

export function endpointSliceType(): ResourceType {
  return {
    group: 'discovery.k8s.io',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        columns: [
          { name: 'AddressType', type: 'string', jsonPath: '.addressType', priority: 0 },
          { name: 'Ports', type: 'string', jsonPath: '.ports', priority: 0 },
          { name: 'Endpoints', type: 'string', jsonPath: '.endpoints', priority: 0 },
          AGE_COLUMN,
        ],
      },
    ],
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
    plural: 'endpointslices',
    singular: 'endpointslice',
    shortNames: [],
    categories: [],
    namespaced: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [],
    generation: true,
    unconditionalUpdate: true,
    fields: (o) => ({ addressType: String(o.addressType ?? '') }),
    validate: validateEndpointSlice,
    cells: endpointSliceCells,
  };
}
