/**
 * The baseline of bench/http-bench.ts: a bare Koa "hello" server (no middleware) on 127.0.0.1:$PORT.
 * It prints `READY <port>` once listening.
 */
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.body = { status: 'ok' };
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  console.log(`READY ${addr && typeof addr === 'object' ? addr.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
