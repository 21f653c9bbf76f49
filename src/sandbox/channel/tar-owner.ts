/**
 * Rewrites the owner of every entry of a tar stream on the fly, so files put
 * into the container with the Engine's archive API belong to the sandbox
 * user. The Engine keeps the uid/gid of the headers, and its `copyUIDGID`
 * option is unusable here (Docker 20.10 looks the container's user name up in
 * the host's passwd database).
 *
 * Touches only the 512-byte header blocks (uid, gid, empty uname/gname, new
 * checksum); data passes through untouched, so the cost is one pass over the
 * stream. Limits: ownership given in PAX extended records (`uid=`/`gid=`)
 * is not rewritten; producers such as tar-stream do not write them.
 *
 * Output comes in chunks of about OUTPUT_CHUNK bytes (the last one smaller):
 * the engine's HTTP request writes every chunk to the socket on its own, and
 * tar-stream produces a header, a body and a padding chunk per file, so a
 * 20,000-file copy-in was ~62,000 writes (each a wake-up of the engine)
 * where the docker CLI makes ~3,000.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { SandboxChannelError } from './errors.ts';

const BLOCK = 512;
const UID = 108;
const GID = 116;
const ID_LEN = 8;
const SIZE = 124;
const SIZE_LEN = 12;
const CHECKSUM = 148;
const CHECKSUM_LEN = 8;
const MAGIC = 257;
const UNAME = 265;
const GNAME = 297;
const NAME_LEN = 32;
const OUTPUT_CHUNK = 256 * 1024;

export function reownTar(uid: number, gid: number): Transform {
  let pending: Buffer = Buffer.alloc(0);
  /** Data (with padding) still to pass before the next header. */
  let dataLeft = 0;
  let out: Buffer[] = [];
  let outBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const emit = (part: Buffer): void => {
        out.push(part);
        outBytes += part.length;
        if (outBytes >= OUTPUT_CHUNK) {
          this.push(out.length === 1 ? part : Buffer.concat(out, outBytes));
          out = [];
          outBytes = 0;
        }
      };
      const buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      try {
        while (offset < buf.length) {
          if (dataLeft > 0) {
            const n = Math.min(dataLeft, buf.length - offset);
            emit(buf.subarray(offset, offset + n));
            offset += n;
            dataLeft -= n;
            continue;
          }
          if (buf.length - offset < BLOCK) break;
          const header = Buffer.from(buf.subarray(offset, offset + BLOCK));
          dataLeft = patchHeader(header, uid, gid);
          emit(header);
          offset += BLOCK;
        }
      } catch (e) {
        callback(e as Error);
        return;
      }
      pending = Buffer.from(buf.subarray(offset));
      callback();
    },
    flush(callback: TransformCallback) {
      if (pending.length > 0) out.push(pending);
      if (out.length > 0) this.push(Buffer.concat(out));
      callback();
    },
  });
}

/** Patches one header block in place; returns the length of the entry's data blocks. */
export function patchHeader(header: Buffer, uid: number, gid: number): number {
  if (header.every((b) => b === 0)) return 0; // End-of-archive block.
  if (readOctal(header, CHECKSUM, CHECKSUM_LEN) !== checksum(header)) {
    throw new SandboxChannelError('protocol', 'The archive to copy into the sandbox is not a valid tar stream (bad header checksum).');
  }
  const size = readSize(header);
  writeOctal(header, UID, ID_LEN, uid);
  writeOctal(header, GID, ID_LEN, gid);
  if (header.toString('latin1', MAGIC, MAGIC + 5) === 'ustar') {
    header.fill(0, UNAME, UNAME + NAME_LEN);
    header.fill(0, GNAME, GNAME + NAME_LEN);
  }
  const sum = checksum(header);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, CHECKSUM, CHECKSUM_LEN, 'latin1');
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Sum of the header bytes with the checksum field counted as spaces. */
function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= CHECKSUM && i < CHECKSUM + CHECKSUM_LEN ? 0x20 : (header[i] ?? 0);
  return sum;
}

function readSize(header: Buffer): number {
  if (((header[SIZE] ?? 0) & 0x80) !== 0) {
    // Base-256 (GNU) for sizes over 8 GiB: big-endian after the marker bit.
    let value = (header[SIZE] ?? 0) & 0x7f;
    for (let i = SIZE + 1; i < SIZE + SIZE_LEN; i++) value = value * 256 + (header[i] ?? 0);
    return value;
  }
  return readOctal(header, SIZE, SIZE_LEN);
}

function readOctal(header: Buffer, offset: number, length: number): number {
  const text = header.toString('latin1', offset, offset + length).replace(/[\0 ]+$/g, '').replace(/^[\0 ]+/, '');
  return text === '' ? 0 : parseInt(text, 8);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}
