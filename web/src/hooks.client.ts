// Client hooks: an error a load throws (an ApiProblem from the client, or anything else) becomes the App.Error the
// error page shows — worded by the same messageFor the forms use, with the API's status and code.
import type { HandleClientError } from '@sveltejs/kit/hooks';
import { ApiProblem } from '#lib/api/client.ts';
import { messageFor } from '#lib/forms.svelte.ts';

export const handleError: HandleClientError = ({ error }) => {
  if (error instanceof ApiProblem) return { message: messageFor(error), code: error.code, ...(error.status >= 400 ? { status: error.status } : {}) };
  return undefined;
};
