/**
 * UTF-8 helpers written against the standard globals only, so `domain/`
 * needs no Node import. Keys and values must be well-formed UTF-16 (no lone
 * surrogates): otherwise two replicas could not agree on their bytes.
 */

/** Byte length of `s` in UTF-8, or -1 if `s` holds a lone surrogate. */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // a high surrogate followed by a low surrogate is one 4-byte code point
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return -1;
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Bytes `utf8Write` will produce: like utf8Length, but a lone surrogate counts 3 (U+FFFD). */
export function utf8EncodedLength(s: string): number {
  const n = utf8Length(s);
  if (n >= 0) return n;
  let m = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) m += 1;
    else if (c < 0x800) m += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        m += 4;
        i++;
      } else m += 3;
    } else m += 3;
  }
  return m;
}

/**
 * Writes `s` (well formed) at `pos`; returns the new position. A lone
 * surrogate is written as U+FFFD, as TextEncoder does; validation keeps
 * such strings out of commands.
 */
export function utf8Write(s: string, out: Uint8Array, pos: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out[pos++] = 0xf0 | (cp >> 18);
        out[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        out[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        out[pos++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        c = 0xfffd;
        out[pos++] = 0xe0 | (c >> 12);
        out[pos++] = 0x80 | ((c >> 6) & 0x3f);
        out[pos++] = 0x80 | (c & 0x3f);
      }
    } else {
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes bytes [start, end); `undefined` for invalid UTF-8. Short ASCII
 * strings (most keys) skip TextDecoder, whose call overhead dominates there.
 */
export function utf8Read(buf: Uint8Array, start: number, end: number): string | undefined {
  if (end - start <= 32) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return decodeSlow(buf, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decodeSlow(buf, start, end);
}

function decodeSlow(buf: Uint8Array, start: number, end: number): string | undefined {
  try {
    return strictDecoder.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}
