// The string formats kube-apiserver checks in a CRD's openAPIV3Schema (kube-openapi's strfmt registry as
// apiextensions uses it); any other format is accepted unchecked, as the real server does.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#format
import { isIP } from 'node:net';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Go's net.ParseCIDR: an address with a prefix length, host bits allowed. */
function isCidr(v: string): boolean {
  const slash = v.lastIndexOf('/');
  if (slash < 0) return false;
  const family = isIP(v.slice(0, slash));
  const prefix = v.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export const FORMATS: Record<string, (v: string) => boolean> = {
  ipv4: (v) => isIP(v) === 4,
  ipv6: (v) => isIP(v) === 6,
  cidr: isCidr,
  mac: (v) => /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(v) || /^([0-9a-f]{4}\.){2}[0-9a-f]{4}$/i.test(v),
  uuid: (v) => UUID.test(v),
  uuid3: (v) => UUID.test(v) && /^.{8}-?.{4}-?3/.test(v),
  uuid4: (v) => UUID.test(v) && /^.{8}-?.{4}-?4/.test(v),
  uuid5: (v) => UUID.test(v) && /^.{8}-?.{4}-?5/.test(v),
  hostname: (v) => v.length <= 255 && v.split('.').every((l) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(l)),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  uri: (v) => {
    try {
      return !!new URL(v).protocol;
    } catch {
      return false;
    }
  },
  byte: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0,
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  'date-time': (v) =>
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)),
  datetime: (v) => FORMATS['date-time']!(v),
  duration: (v) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$/.test(v),
  hexcolor: (v) => /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.test(v),
  password: () => true,
};
