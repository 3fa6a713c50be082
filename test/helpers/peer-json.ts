/** A peer as `edges`, `check` and `drops` print it with `-o json`, and as the generators' truth files write it. */
export interface PeerJson {
  kind: string;
  namespace?: string;
  workloadKind?: string;
  name?: string;
  entity?: string;
  fqdn?: string;
  cidr?: string;
}
