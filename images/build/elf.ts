// What an ELF file needs from the dynamic loader: its interpreter (PT_INTERP), the libraries it names (DT_NEEDED) and
// where it asks to look (DT_RUNPATH/DT_RPATH). A pure reader over the file's bytes, so the image build copies
// exactly the shared-library closure of its programs, without running ldd inside a foreign root filesystem.

export interface ElfDeps {
  interpreter?: string;
  needed: string[];
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

function cString(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end < 0 ? buf.length : end);
}

/**
 * Parses a 64-bit little-endian ELF file (x86_64, the only architecture the images are built for). Returns undefined
 * for a file that is not ELF; throws for an ELF file of another class or byte order, naming `what`.
 */
export function elfDeps(buf: Buffer, what = 'file'): ElfDeps | undefined {
  if (!isElf(buf)) return undefined;
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error(`${what}: not a 64-bit little-endian ELF file`);
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > buf.length) throw new Error(`${what}: truncated ELF program header`);
    const type = buf.readUInt32LE(at);
    const offset = buf.readBigUInt64LE(at + 8);
    const vaddr = buf.readBigUInt64LE(at + 16);
    const filesz = buf.readBigUInt64LE(at + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interpreter = cString(buf, Number(offset));
    else if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
  }
  if (!dynamic) return { ...(interpreter ? { interpreter } : {}), needed: [], runpath: [] };
  const entries: [bigint, bigint][] = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size && at + 16 <= buf.length; at += 16) {
    const tag = buf.readBigUInt64LE(at);
    if (tag === DT_NULL) break;
    entries.push([tag, buf.readBigUInt64LE(at + 8)]);
  }
  const strtabAddr = entries.find(([t]) => t === DT_STRTAB)?.[1];
  if (strtabAddr === undefined) throw new Error(`${what}: ELF dynamic section without a string table`);
  const seg = loads.find((l) => strtabAddr >= l.vaddr && strtabAddr < l.vaddr + l.filesz);
  if (!seg) throw new Error(`${what}: ELF string table outside every loaded segment`);
  const strtab = Number(strtabAddr - seg.vaddr + seg.offset);
  const str = (v: bigint) => cString(buf, strtab + Number(v));
  const needed = entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v));
  const runpath = entries
    .filter(([t]) => t === DT_RUNPATH || t === DT_RPATH)
    .flatMap(([, v]) => str(v).split(':'))
    .filter((p) => p !== '');
  return { ...(interpreter ? { interpreter } : {}), needed, runpath };
}
