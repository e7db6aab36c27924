/** User schemas for API responses. */
import { z } from 'zod';

/** UserSchema is a user as the API shows them (never a password or its hash). */
export const UserSchema = z
  .object({ id: z.uuid(), email: z.string(), name: z.string(), createdAt: z.string() })
  .meta({ id: 'User' });
