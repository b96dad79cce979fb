import { z } from 'zod';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';

// Every schema is built from this z, so the same object validates a request and documents it.
extendZodWithOpenApi(z);
export { z };

/** Opaque ids: letters, digits, _ and -. An object such as {"$gt": ""} never passes. */
export const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id (letters, digits, _ or -)').openapi({ example: 'p_7Qx2kP9a' });
/** Integer fen: never a float, never a string. */
export const Fen = z.number().int('must be whole fen').safe();
export const PositiveFen = Fen.min(1, 'must be at least 1 fen').max(1_000_000_000_00, 'must be at most ¥1,000,000,000');
export const IsoTime = z.string().datetime({ offset: true }).openapi({ example: '2026-11-29T10:00:00.000Z' });

export const ErrorBody = z.object({
  error: z.object({ code: z.string().openapi({ example: 'VALIDATION_FAILED' }), message: z.string(), details: z.unknown().optional() }),
}).openapi('Error');
