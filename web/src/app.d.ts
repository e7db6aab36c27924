// app.d.ts: SvelteKit's ambient app types.
declare global {
  namespace App {
    interface Error {
      message: string;
      code?: string;
      status?: number;
    }
  }
}

export {};
