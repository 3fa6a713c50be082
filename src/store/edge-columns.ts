import { COUNTER_FIELDS, type SetField, type Side } from '../graph/index.js';

/** Column names of migration 2's `edges` table, shared by the writer and the reader. */
const SIDE_PREFIX: Readonly<Record<Side, string>> = { egress: 'eg', ingress: 'in', unknown: 'un' };
export const SIDE_COLUMNS = (Object.keys(SIDE_PREFIX) as Side[]).flatMap((s) => COUNTER_FIELDS.map((f) => ({ side: s, field: f, column: `${SIDE_PREFIX[s]}_${f}` })));
export const SET_COLUMN: Readonly<Record<SetField, string>> = {
  dnsNames: 'dns_names',
  httpRequests: 'http_requests',
  destinationNames: 'destination_names',
  l7Protocols: 'l7_protocols',
  allowedBy: 'allowed_by',
  deniedBy: 'denied_by',
  services: 'services',
  srcPods: 'src_pods',
  dstPods: 'dst_pods',
  // migration 4
  srcReserved: 'src_reserved',
  dstReserved: 'dst_reserved',
};

