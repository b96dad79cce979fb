import { z } from './zod';

// controls (C0, C1, DEL), line/paragraph separators and lone surrogates: never part of a name
const CONTROL = /[\p{Cc}\u2028\u2029]|\p{Cs}/u;
// bidi embeddings, overrides, isolates and marks: they reorder what is shown after them (a reversed ticker line)
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;
// shows nothing on its own: format characters (zero-width space, joiners, BOM), spaces, combining marks and fillers
const INVISIBLE = /^[\p{Cf}\p{Z}\p{M}\u115F\u1160\u3164\uFFA0\u2800\u180E\s]*$/u;

/** What is wrong with a piece of text shown to others, or null when nothing is. */
export function textProblem(s: string): string | null {
  if (CONTROL.test(s)) return 'must not contain control characters';
  if (BIDI.test(s)) return 'must not contain bidirectional overrides, isolates or marks';
  if (INVISIBLE.test(s)) return 'must contain visible characters (not only invisible ones)';
  return null;
}

/**
 * The one schema for names and titles that others see (charity, host, viewer, product, stream): trimmed,
 * refused when hostile (controls, bidi controls, invisible-only), then NFC-normalised so look-alikes store alike.
 */
export function displayText(max: number) {
  return z.string().trim().min(1).max(max)
    .superRefine((s, ctx) => {
      const problem = textProblem(s);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .transform((s) => s.normalize('NFC'))
    .openapi({ description: 'shown to others: trimmed and NFC-normalised; no control characters, bidirectional controls or invisible-only text' });
}
