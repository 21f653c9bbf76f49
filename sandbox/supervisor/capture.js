'use strict';
/**
 * Bounded capture of one output stream: keeps the first `headMax` and the last
 * `tailMax` bytes and counts what fell in between, so memory stays bounded
 * whatever a command prints (`yes` for two minutes is fine).
 * Cuts never split a UTF-8 character.
 */

class Capture {
  constructor(headMax, tailMax) {
    this.headMax = headMax;
    this.tailMax = tailMax;
    this.head = [];
    this.headBytes = 0;
    this.tail = [];
    this.tailBytes = 0;
    this.total = 0;
  }

  push(buf) {
    this.total += buf.length;
    if (this.headBytes < this.headMax) {
      const take = Math.min(buf.length, this.headMax - this.headBytes);
      this.head.push(buf.subarray(0, take));
      this.headBytes += take;
      buf = buf.subarray(take);
      if (buf.length === 0) return;
    }
    this.tail.push(buf);
    this.tailBytes += buf.length;
    while (this.tailBytes - (this.tail[0] ? this.tail[0].length : 0) >= this.tailMax) {
      this.tailBytes -= this.tail.shift().length;
    }
  }

  /** Bytes counted but not kept. */
  get dropped() {
    return this.total - this.headBytes - Math.min(this.tailBytes, this.tailMax);
  }

  text(label) {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailMax) tail = tail.subarray(tail.length - this.tailMax);
    if (this.dropped === 0) return Buffer.concat([head, tail]).toString('utf8');
    const headEnd = completeUtf8End(head);
    const tailStart = firstCharStart(tail);
    const omitted = this.dropped + (head.length - headEnd) + tailStart;
    return `${head.subarray(0, headEnd).toString('utf8')}\n[crewbox: ${omitted} bytes of ${label} omitted]\n${tail.subarray(tailStart).toString('utf8')}`;
  }
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
function completeUtf8End(buf) {
  for (let i = buf.length - 1, seen = 0; i >= 0 && seen < 4; i--, seen++) {
    const b = buf[i];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return buf.length - i >= need ? buf.length : i;
  }
  return buf.length;
}

/** Offset of the first byte that starts a character (skips continuation bytes). */
function firstCharStart(buf) {
  let i = 0;
  while (i < buf.length && i < 3 && (buf[i] & 0xc0) === 0x80) i++;
  return i;
}

module.exports = { Capture };
