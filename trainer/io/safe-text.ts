/**
 * Text from a file (a model's name, its attribution, a path) on its way to the terminal: control
 * characters (C0, DEL, C1) and bidi overrides are shown as \uXXXX, so a name cannot carry escape
 * sequences or reorder what is printed around it.
 */

function isUnsafe(code: number, includeC0: boolean): boolean {
  return (includeC0 && code < 0x20) || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/** `text` with every unsafe character as \uXXXX (C0 too unless `includeC0` is false). */
export function escapeUnsafe(text: string, includeC0 = true): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out += isUnsafe(code, includeC0) ? `\\u${code.toString(16).padStart(4, '0')}` : text[i];
  }
  return out;
}

/** Indented JSON: JSON.stringify already escapes C0; DEL, C1 and bidi controls too (still valid JSON). */
export function safeJson(value: unknown): string {
  return escapeUnsafe(JSON.stringify(value, null, 2), false);
}
