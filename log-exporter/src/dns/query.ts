// One DNS query over TCP (RFC 1035 4.2.2: a 2-byte length, then the message) and the reply code of its answer. Pure:
// bytes in, bytes out. The exporter's probe asks the gateway's resolver this way (no UDP socket, no dependency).

export const QTYPE = { A: 1, NS: 2 } as const;

/** The length-prefixed query for `name` (`.` = the root), class IN, recursion desired. */
export function encodeQuery(id: number, name: string, qtype: number): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const qname: number[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length === 0 || b.length > 63)
      throw new Error(`DNS name ${JSON.stringify(name)}: a label of ${b.length} bytes`);
    qname.push(b.length, ...b);
  }
  qname.push(0);
  if (qname.length > 255) throw new Error(`DNS name ${JSON.stringify(name)} is longer than 255 bytes`);
  const msg = Buffer.alloc(12 + qname.length + 4);
  msg.writeUInt16BE(id & 0xffff, 0);
  msg.writeUInt16BE(0x0100, 2); // RD
  msg.writeUInt16BE(1, 4); // QDCOUNT
  Buffer.from(qname).copy(msg, 12);
  msg.writeUInt16BE(qtype, 12 + qname.length);
  msg.writeUInt16BE(1, 14 + qname.length); // IN
  const framed = Buffer.alloc(2 + msg.length);
  framed.writeUInt16BE(msg.length, 0);
  msg.copy(framed, 2);
  return framed;
}

export const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

/**
 * The reply code of a complete length-prefixed reply to query `id`, or undefined while `buf` holds less than one
 * whole message. Throws on a reply that is not one to our query.
 */
export function replyRcode(buf: Buffer, id: number): string | undefined {
  if (buf.length < 2) return undefined;
  const len = buf.readUInt16BE(0);
  if (buf.length < 2 + len) return undefined;
  if (len < 12) throw new Error(`DNS reply of ${len} bytes: shorter than a header`);
  if (buf.readUInt16BE(2) !== (id & 0xffff)) throw new Error('DNS reply with another id');
  const flags = buf.readUInt16BE(4);
  if ((flags & 0x8000) === 0) throw new Error('DNS message is not a reply');
  const rcode = flags & 0x000f;
  return RCODES[rcode] ?? `RCODE${rcode}`;
}

/** Whether a reply code means the resolver answered (the name exists or not), rather than failed. */
export const answeredRcode = (rcode: string) => rcode === 'NOERROR' || rcode === 'NXDOMAIN';
