import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HubbleEvent, LineDecoder, decodeEvent } from '../../src/flow/index.js';

/**
 * The line fast path must give exactly what JSON.parse + decodeEvent give, or decline: it may never
 * accept a line the general way rejects, nor read a field differently.
 */
const SAMPLES = join(__dirname, '../../../shared/samples');
const RECORDING = join(__dirname, '../../recordings/home-lab.jsonl.gz');

function general(line: string): HubbleEvent | 'rejected' {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'rejected';
  }
  const result = decodeEvent(value);
  return result.ok ? result.event : 'rejected';
}

/** Checks one line; returns whether the fast path read it. */
function agrees(decoder: LineDecoder, line: string): boolean {
  const fast = decoder.decode(line);
  if (fast === undefined) return false;
  const expected = general(line);
  expect(expected, line.slice(0, 300)).not.toBe('rejected');
  expect(fast, line.slice(0, 300)).toStrictEqual(expected);
  return true;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function linesOf(path: string): string[] {
  let bytes = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  return bytes.toString('utf8').split('\n').filter((l) => l.trim().length > 0);
}

const recordingLines = linesOf(RECORDING);

describe('LineDecoder (the replay fast path)', () => {
  it('reads the bundled recording as the general decoder does, and most of it fast', () => {
    const decoder = new LineDecoder();
    let fast = 0;
    for (const line of recordingLines) if (agrees(decoder, line)) fast++;
    expect(fast / recordingLines.length).toBeGreaterThan(0.99);
  });

  it('agrees with the general decoder on every line of the public samples', () => {
    const decoder = new LineDecoder();
    let fast = 0;
    let lines = 0;
    for (const file of filesUnder(SAMPLES)) {
      for (const line of linesOf(file)) {
        lines++;
        if (agrees(decoder, line)) fast++;
      }
    }
    expect(lines).toBeGreaterThan(1900);
    expect(fast).toBeGreaterThan(1500);
  });

  it('declines what it does not read itself', () => {
    const decoder = new LineDecoder();
    const flow = recordingLines[0] as string;
    const inner = flow.slice('{"flow":'.length, flow.indexOf(',"node_name"'));
    const declined = [
      '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"3"},"time":"2026-11-10T00:00:00Z"}',
      '{"node_status":{"state_change":"NODE_CONNECTED","node_names":["a"]}}',
      '{"flow":null}',
      inner, // a bare flow (CLI <= 0.10)
      flow.replace('"verdict":"FORWARDED"', '"verdict":1'),
      flow.replace('"verdict":"FORWARDED"', '"verdict":"NOT_A_VERDICT"'),
      flow.replace('"destination_port":8080', '"destination_port":"8080"'),
      flow.replace('"destination_port":8080', '"destination_port":08080'),
      flow.replace('"destination_port":8080', '"destination_port":8080.5'),
      flow.replace('"Summary":"TCP Flags: SYN"', '"summary":"TCP Flags: SYN"'),
      flow.replace('"Summary":"TCP Flags: SYN"', '"Summary":"TCP \\x Flags"'),
      flow.replace('"Summary":"TCP Flags: SYN"', '"Summary":"TCP \\u00"'),
      flow.replace('"Summary":"TCP Flags: SYN"', '"Summary":"TCP Flags: SYN\\"'),
      flow.replace('"is_reply":false', '"is_reply":null'),
      flow.replace('"is_reply":false,', '"is_reply":false,,'),
      flow.replace('"event_type":{"type":4}', '"event_type":{"type":4,}'),
      `${flow} x`,
      `${flow}{}`,
      flow.slice(0, -1),
      flow.replace('"time":"2026-11-10T00:01:07.508892255Z",', ''),
    ];
    for (const line of declined) expect(decoder.decode(line), line.slice(0, 200)).toBeUndefined();
    expect(decoder.declined).toBe(declined.length);
  });

  it('keeps a raw tab inside a string verbatim (JSON.parse would reject the line)', () => {
    const flow = recordingLines[0] as string;
    const event = new LineDecoder().decode(flow.replace('"Summary":"TCP Flags: SYN"', '"Summary":"TCP\tFlags: SYN"'));
    expect(event?.kind === 'flow' && event.flow.summary).toBe('TCP\tFlags: SYN');
  });

  it('reads whitespace, duplicate members and repeated endpoints like JSON.parse', () => {
    const decoder = new LineDecoder();
    const flow = recordingLines[0] as string;
    const pretty = JSON.stringify(JSON.parse(flow), null, 2).replace(/\n/g, ' ');
    const duplicated = flow.replace('"verdict":"FORWARDED"', '"verdict":"DROPPED","verdict":"FORWARDED"');
    const lastWins = flow.replace('"verdict":"FORWARDED"', '"verdict":"FORWARDED","verdict":"AUDIT"');
    const escaped = [
      flow.replace('"Summary":"TCP Flags: SYN"', '"Summary":"DNS Answer \\"a.example.\\" \\\\ \\u00e9\\n"'),
      flow.replace('"verdict":"FORWARDED"', '"verd\\u0069ct":"DROPPED"'),
      flow.replace('"pod_name":"prometheus-kube-prometheus-stack-prometheus-0"', '"pod_name":"prometheus\\/0"'),
      flow.replace('"node_labels":[', '"node_labels":["a\\"b\\\\",'),
    ];
    for (const line of [pretty, duplicated, lastWins, ` ${flow}  `, ...escaped]) expect(agrees(decoder, line), line.slice(0, 120)).toBe(true);
    const dns = decoder.decode(escaped[0] as string);
    expect(dns?.kind === 'flow' && dns.flow.summary).toBe('DNS Answer "a.example." \\ é\n');
    const audit = decoder.decode(lastWins);
    expect(audit?.kind === 'flow' && audit.flow.verdict).toBe('AUDIT');
    // The same endpoint text followed by different members, and a near-identical endpoint.
    const otherPod = flow.replace('"pod_name":"prometheus-kube-prometheus-stack-prometheus-0"', '"pod_name":"prometheus-kube-prometheus-stack-prometheus-1"');
    for (const line of [flow, otherPod, flow, otherPod]) expect(agrees(decoder, line)).toBe(true);
  });

  it('never accepts a corrupted line the general way rejects, nor reads it differently', () => {
    const decoder = new LineDecoder();
    const sample = fc.constantFrom(...recordingLines.slice(0, 200));
    const edit = fc.record({
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      // Half the edits hit JSON punctuation, where a lax reader would slip.
      onPunctuation: fc.boolean(),
      cut: fc.integer({ min: 0, max: 3 }),
      insert: fc.oneof(fc.constantFrom('', '"', ',', ';', '{', '}', '[', ']', ':', '0', '-', 'null', 'true', ' ', 'e', '.', '\t', '\\', '\\"', '\\u00e9', '\\n', '\\x'), fc.string({ maxLength: 2 })),
    });
    fc.assert(
      fc.property(sample, fc.array(edit, { minLength: 1, maxLength: 3 }), (line, edits) => {
        let text = line;
        for (const e of edits) {
          const punctuation = [...text.matchAll(/[{}[\],:"]/g)].map((m) => m.index);
          const at = e.onPunctuation && punctuation.length > 0 ? (punctuation[Math.floor(e.at * punctuation.length)] as number) : Math.floor(e.at * text.length);
          text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
        }
        const fast = decoder.decode(text);
        if (fast === undefined) return;
        const expected = general(text);
        if (expected === 'rejected') {
          // The one documented leniency: raw control characters inside strings are not looked for.
          expect(text).toMatch(/[\x00-\x1f]/);
          return;
        }
        expect(fast).toStrictEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('never mistakes one punctuation character for another', () => {
    const decoder = new LineDecoder();
    const line = recordingLines[0] as string;
    const punctuation = [...line.matchAll(/[{}[\],:"]/g)].map((m) => m.index);
    fc.assert(
      fc.property(fc.constantFrom(...punctuation), fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom(0, 1), (at, code, cut) => {
        const text = line.slice(0, at) + String.fromCharCode(code) + line.slice(at + cut);
        const fast = decoder.decode(text);
        if (fast === undefined) return;
        const expected = general(text);
        expect(expected, text).not.toBe('rejected');
        expect(fast).toStrictEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads generated flows of every shape the same way', () => {
    const decoder = new LineDecoder();
    const endpoint = fc.record(
      {
        ID: fc.constantFrom(1, 2647),
        identity: fc.constantFrom(1, 2, 7, 67729, 16777217),
        cluster_name: fc.constant('c'),
        namespace: fc.constantFrom('dbms', ''),
        labels: fc.constantFrom(['k8s:app=a'], ['reserved:host'], []),
        pod_name: fc.constantFrom('a-0', 'a-1', ''),
        workloads: fc.constantFrom([{ name: 'a', kind: 'StatefulSet' }], []),
      },
      { requiredKeys: [] },
    );
    const l4 = fc.oneof(
      fc.record({ TCP: fc.record({ source_port: fc.nat(65535), destination_port: fc.nat(65535), flags: fc.dictionary(fc.constantFrom('SYN', 'ACK', 'FIN', 'RST', 'PSH', 'XYZ'), fc.boolean()) }, { requiredKeys: [] }) }),
      fc.record({ UDP: fc.record({ source_port: fc.nat(65535), destination_port: fc.nat(65535) }) }),
      fc.record({ ICMPv4: fc.record({ type: fc.nat(255), code: fc.nat(255) }, { requiredKeys: [] }) }),
      fc.record({ SCTP: fc.record({ destination_port: fc.nat(65535) }) }),
      fc.constant({ VRRP: {} }),
      fc.constant({}),
      fc.constant({ TCP: { destination_port: 1 }, UDP: { destination_port: 2 } }),
    );
    const policy = fc.record({ name: fc.constantFrom('p', 'q'), namespace: fc.constant('dbms'), kind: fc.constant('CiliumNetworkPolicy'), revision: fc.constantFrom('7', 7) }, { requiredKeys: [] });
    const flow = fc.record(
      {
        time: fc.constantFrom('2026-11-10T00:01:07.508892255Z', '2026-11-10T00:01:07Z', '2026-11-10T01:01:07.5+01:00', 'yesterday'),
        uuid: fc.constantFrom('7465b699-23d5-4e24-b297-9842c8b67744', ''),
        verdict: fc.constantFrom('FORWARDED', 'DROPPED', 'AUDIT', 'VERDICT_UNKNOWN'),
        drop_reason: fc.constantFrom(0, 133, 181),
        drop_reason_desc: fc.constantFrom('POLICY_DENIED', 'DROP_REASON_UNKNOWN', '181', 'UNKNOWN_NEW_REASON'),
        IP: fc.record({ source: fc.constant('10.0.0.1'), destination: fc.constant('fd00::1'), ipVersion: fc.constantFrom('IPv4', 'IPv6'), ip_version: fc.constant('IPv6'), encrypted: fc.boolean() }, { requiredKeys: [] }),
        l4,
        source: endpoint,
        destination: endpoint,
        Type: fc.constantFrom('L3_L4', 'L7', 'SOCK'),
        node_name: fc.constantFrom('kind/node-1', ''),
        source_names: fc.constantFrom([], ['a.example.com']),
        destination_names: fc.constantFrom([], ['api.example.com', 'b.example.com']),
        l7: fc.constantFrom(
          { type: 'REQUEST', http: { method: 'GET', url: 'http://api/v1?token=abc', headers: [{ key: 'Authorization', value: 'Bearer x' }] } },
          { type: 'RESPONSE', latency_ns: '1200', dns: { query: 'API.example.com.', ips: ['1.2.3.4'], ttl: 30, rcode: 0 } },
        ),
        reply: fc.boolean(),
        is_reply: fc.boolean(),
        event_type: fc.record({ type: fc.constantFrom(1, 4, 129), sub_type: fc.nat(5) }, { requiredKeys: [] }),
        source_service: fc.record({ name: fc.constant('svc'), namespace: fc.constant('dbms') }, { requiredKeys: [] }),
        destination_service: fc.record({ name: fc.constant('db-rw'), namespace: fc.constant('dbms') }, { requiredKeys: [] }),
        traffic_direction: fc.constantFrom('INGRESS', 'EGRESS', 'TRAFFIC_DIRECTION_UNKNOWN'),
        policy_match_type: fc.nat(4),
        trace_observation_point: fc.constantFrom('TO_ENDPOINT', 'FROM_NETWORK', 'SOMETHING_NEW'),
        trace_reason: fc.constantFrom('NEW', 'REPLY', 'ESTABLISHED'),
        egress_allowed_by: fc.array(policy, { maxLength: 2 }),
        ingress_denied_by: fc.array(policy, { maxLength: 2 }),
        Summary: fc.constantFrom('TCP Flags: SYN', ''),
        ethernet: fc.constant({ source: 'a', destination: 'b' }),
        interface: fc.constant({ index: 3, name: 'lxc1' }),
        node_labels: fc.constant(['kubernetes.io/os=linux']),
        newer_field: fc.constantFrom({ deep: [1, -2.5e3, true, null, { x: 'y' }] }, 0.25, 'z'),
      },
      { requiredKeys: ['time'] },
    );
    const envelope = fc.record({ flow, node_name: fc.constantFrom('kind/node-2', ''), time: fc.constant('2026-11-10T00:01:07Z') }, { requiredKeys: ['flow'] });
    let fast = 0;
    fc.assert(
      fc.property(envelope, (e) => {
        if (agrees(decoder, JSON.stringify(e))) fast++;
      }),
      { numRuns: 2000 },
    );
    // Most generated flows are plain enough for the fast path (the rest: odd times, several L4 protocols).
    expect(fast).toBeGreaterThan(1000);
  });
});
