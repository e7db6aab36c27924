/**
 * A tiny authoritative DNS server on loopback UDP for tests (dns-packet over node:dgram): it answers A, AAAA and TXT
 * questions from a record table, NXDOMAIN for names it does not know, and NOERROR without answers for a known name
 * asked about another type. Point a SystemDnsResolver at `server` to resolve through it.
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

/** DnsRecords maps a lower-case name to its records by type. */
export type DnsRecords = Map<string, { A?: string[]; AAAA?: string[]; TXT?: string[] }>;

/** DnsTestServer is a running server. */
export interface DnsTestServer {
  /** server is `127.0.0.1:<port>`, for Resolver.setServers. */
  server: string;
  /** records is the live record table. */
  records: DnsRecords;
  /** questions lists every `<type> <name>` asked. */
  questions: string[];
  /** close stops the server. */
  close(): Promise<void>;
}

/** startDnsTestServer starts the server on a random loopback port. */
export async function startDnsTestServer(): Promise<DnsTestServer> {
  const records: DnsRecords = new Map();
  const questions: string[] = [];
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    questions.push(`${q.type} ${q.name}`);
    const entry = records.get(q.name.toLowerCase());
    const answers: dnsPacket.Answer[] = [];
    if (entry && (q.type === 'A' || q.type === 'AAAA')) {
      for (const ip of entry[q.type] ?? []) answers.push({ type: q.type, name: q.name, ttl: 1, class: 'IN', data: ip });
    } else if (entry && q.type === 'TXT') {
      for (const t of entry.TXT ?? []) answers.push({ type: 'TXT', name: q.name, ttl: 1, class: 'IN', data: [t] });
    }
    const NXDOMAIN = 3;
    const reply = dnsPacket.encode({
      type: 'response', id: query.id ?? 0, flags: dnsPacket.AUTHORITATIVE_ANSWER | (entry ? 0 : NXDOMAIN), questions: [q], answers,
    });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const { port } = sock.address() as AddressInfo;
  return {
    server: `127.0.0.1:${port}`, records, questions,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
