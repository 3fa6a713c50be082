import { type Endpoint, ownCopy } from '../flow/index.js';
import { rawPeerKey, workloadKey } from './edge-key.js';
import { reservedPeer } from './identity.js';
import type { RawPeer } from './model.js';
import { podWorkload } from './workload-rules.js';

/** One canonical object per raw peer key, so hot maps can key by object instead of by string. */
export interface Resolved {
  readonly peer: RawPeer;
  readonly key: string;
}

/** Identities from 2^24 up are local-scope CIDR/FQDN identities (hubble-api.md §2.3). */
const LOCAL_SCOPE_MIN = 1 << 24;
/**
 * Canonical peers kept before the cache is dropped (between batches only). World addresses keep
 * coming for as long as ingest runs (17,000 in a week of a 3,000-workload cluster, ~250 bytes
 * each): at 200,000 this grew to ~50 MB before it was ever dropped.
 */
export const MAX_CANONICAL = 32_768;

interface OwnerEntry {
  readonly namespace: string;
  readonly ownerKind: string;
  readonly ownerName: string;
  readonly labels: number;
  readonly resolved: Resolved;
}

/**
 * Resolves flow endpoints to canonical peers, fast. A decoded flow carries fresh strings, and
 * building and hashing a `w:ns/Kind/name` key per endpoint costs more than the rest of the
 * aggregation together, so pods with an owner in `workloads[]` are looked up by numeric identity
 * (checked against namespace, owner and label count: two Deployments with equal labels share an
 * identity). Results never depend on the cache: a miss computes the same peer.
 */
export class PeerCache {
  readonly #canonical = new Map<string, Resolved>();
  readonly #byIdentity = new Map<number, OwnerEntry[]>();
  readonly #worldByIp = new Map<string, Resolved>();
  #byEndpoint = new WeakMap<Endpoint, { readonly resolved: Resolved; readonly hint: string | undefined }>();
  /** Owner kind suggested by the pod name of the last resolved inferred workload. */
  lastHint: string | undefined;

  /** `maxCanonical`: peers kept before `trim` drops them all (tests make it tiny). */
  constructor(private readonly maxCanonical: number = MAX_CANONICAL) {}

  resolve(ep: Endpoint, ip: string | undefined): Resolved | undefined {
    // The decoder hands out one frozen Endpoint per distinct endpoint; a pod's peer does not
    // depend on the IP, so it is worked out once per object.
    const frozen = Object.isFrozen(ep);
    if (frozen) {
      const known = this.#byEndpoint.get(ep);
      if (known !== undefined) {
        this.lastHint = known.hint;
        return known.resolved;
      }
    }
    const resolved = this.#resolve(ep, ip);
    const id = ep.identity;
    if (frozen && resolved !== undefined && id !== undefined && id >= 256 && id < LOCAL_SCOPE_MIN) {
      this.#byEndpoint.set(ep, { resolved, hint: this.lastHint });
    }
    return resolved;
  }

  #resolve(ep: Endpoint, ip: string | undefined): Resolved | undefined {
    this.lastHint = undefined;
    const id = ep.identity;
    const owner = ep.workloads[0];
    // Cluster-local pod identities (256 .. 2^24) carry no reserved labels.
    const podIdentity = id !== undefined && id >= 256 && id < LOCAL_SCOPE_MIN;
    if (podIdentity && owner !== undefined && ep.namespace) {
      const entries = this.#byIdentity.get(id);
      if (entries !== undefined) {
        for (const e of entries) {
          if (e.ownerName === owner.name && e.ownerKind === owner.kind && e.namespace === ep.namespace && e.labels === ep.labels.length) return e.resolved;
        }
      }
    }
    if (!podIdentity) {
      const reserved = reservedPeer(ep, ip);
      if (reserved !== undefined) return reserved.kind === 'world-ip' ? this.#world(reserved.ip) : this.#canon(rawPeerKey(reserved), reserved);
    }
    const w = podWorkload(ep);
    if (w === undefined) return undefined;
    this.lastHint = w.kindHint;
    const key = workloadKey(w.namespace, w.kind, w.name);
    const resolved = this.#canon(key, { kind: 'workload', namespace: w.namespace, workloadKind: w.kind, name: w.name });
    if (podIdentity && owner !== undefined && ep.namespace) {
      const entry: OwnerEntry = { namespace: ep.namespace, ownerKind: owner.kind, ownerName: owner.name, labels: ep.labels.length, resolved };
      const entries = this.#byIdentity.get(id);
      if (entries === undefined) this.#byIdentity.set(id, [entry]);
      else entries.push(entry);
    }
    return resolved;
  }

  /** Drops the caches when they grew large; call between batches only (objects key batch maps). */
  trim(): void {
    if (this.#canonical.size + this.#worldByIp.size <= this.maxCanonical) return;
    this.#canonical.clear();
    this.#byIdentity.clear();
    this.#worldByIp.clear();
    this.#byEndpoint = new WeakMap();
  }

  #world(ip: string): Resolved {
    let r = this.#worldByIp.get(ip);
    if (r === undefined) {
      // Kept across batches: a copy, not a view of the flow's line.
      const own = ownCopy(ip);
      r = this.#canon(`ip:${own}`, { kind: 'world-ip', ip: own });
      this.#worldByIp.set(own, r);
    }
    return r;
  }

  #canon(key: string, peer: RawPeer): Resolved {
    let r = this.#canonical.get(key);
    if (r === undefined) {
      r = { peer, key };
      this.#canonical.set(key, r);
    }
    return r;
  }
}
