/**
 * Live logs over real HTTP SSE, from the Nomad double's framed log stream: follow, history from the start, resume by
 * Last-Event-ID (across log rotation, and with a `gap` notice when the file was rotated out), one shared upstream per stream, a slow client dropped with a notice while memory stays bounded,
 * and access (another team's caller gets 404).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startRuntimeKit, SseReader, until, type RuntimeKit } from '../events/test-kit.ts';

describe('GET /api/services/:serviceId/logs', () => {
  let kit: RuntimeKit;
  before(async () => { kit = await startRuntimeKit({ runtime: { sse: { heartbeatMs: 1_000, maxBufferedBytes: 64 * 1024 } } }); });
  after(async () => { await kit.close(); });

  it('follows from the end: only output written after connecting arrives, in order', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    kit.double.control.appendLog(alloc, 'web', 'stdout', 'before-connect\n');
    const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`);
    assert.equal(sut.status, 200);
    // The session listens and its upstream is open at the end: what is written now arrives (no fixed wait to outrun).
    const hub = kit.runtime.logs.hub;
    await until(() => hub.subscribers === 1 && hub.positioned === 1);
    for (let i = 0; i < 5; i++) kit.double.control.appendLog(alloc, 'web', 'stdout', `line-${i}\n`);
    await sut.until(() => sut.logText().includes('line-4'));
    assert.equal(sut.logText().includes('before-connect'), false);
    assert.match(sut.logText(), /line-0\nline-1\nline-2\nline-3\nline-4\n/);
    const e = sut.events.find((x) => x.event === 'log');
    assert.match(e?.id ?? '', /^v1:[0-9a-f-]{36}~web~o~0~\d+$/);
    sut.close();
  });

  it('reads history from the start without follow and ends', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    kit.double.control.appendLog(allocs[0]?.ID ?? '', 'web', 'stderr', 'boom on stderr\n');
    const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?origin=start&follow=false`);
    await sut.until((e) => e.event === 'end');
    assert.match(sut.logText(), /starting nginx:1\.27/);
    assert.match(sut.logText(), /boom on stderr/);
  });

  it('resumes exactly after the Last-Event-ID, across a disconnect, for every stream', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService(undefined, undefined, 2);
    const [a, b] = [allocs[0]?.ID ?? '', allocs[1]?.ID ?? ''];
    const first = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?origin=start`);
    kit.double.control.appendLog(a, 'web', 'stdout', 'a-1\n');
    kit.double.control.appendLog(b, 'web', 'stderr', 'b-1\n');
    await first.until(() => first.logText().includes('a-1') && first.logText().includes('b-1'));
    const lastId = first.events.filter((e) => e.event === 'log').at(-1)?.id ?? '';
    first.close();
    kit.double.control.appendLog(a, 'web', 'stdout', 'a-2\n');
    kit.double.control.appendLog(b, 'web', 'stderr', 'b-2\n');
    const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs`, { 'last-event-id': lastId });
    await sut.until(() => sut.logText().includes('a-2') && sut.logText().includes('b-2'));
    const text = sut.logText();
    assert.equal(text.includes('a-1'), false, 'nothing before the cursor is sent again');
    assert.equal(text.includes('b-1'), false);
    assert.equal(text.includes('starting'), false);
    sut.close();
  });

  it('resumes exactly after the Last-Event-ID when Nomad rotated the log into new files meanwhile', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    try {
      // Small files: web.stdout.0 holds the start-up lines, then .1, .2… A resume that took the offset in the
      // cursor's file as Nomad's origin=start offset (counted from the oldest kept file) would re-send older lines.
      kit.double.control.setLogLimits({ maxFileBytes: 40 });
      const first = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout&origin=start`);
      await first.until(() => first.logText().includes('listening'));
      for (const line of ['seen-1 with some padding\n', 'seen-2 with some padding\n']) {
        kit.double.control.appendLog(alloc, 'web', 'stdout', line);
        await first.until(() => first.logText().endsWith(line));
      }
      const lastId = first.events.filter((e) => e.event === 'log').at(-1)?.id ?? '';
      assert.match(lastId, /~o~[2-9]~\d+$/, 'read up to a position in a rotated file');
      first.close();
      const missed = Array.from({ length: 6 }, (_, i) => `missed-line-${i}\n`).join('');
      kit.double.control.appendLog(alloc, 'web', 'stdout', missed);
      const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`, { 'last-event-id': lastId });
      await sut.until(() => sut.logText().includes('missed-line-5'));
      kit.double.control.appendLog(alloc, 'web', 'stdout', 'live-after\n');
      await sut.until(() => sut.logText().includes('live-after'));
      assert.equal(sut.logText(), `${missed}live-after\n`, 'exactly what was missed, then live, nothing twice');
      assert.equal(sut.events.some((e) => e.event === 'gap'), false);
      const files = new Set(sut.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).file as string));
      assert.ok(files.size >= 3, `read across rotated files: ${[...files].join(', ')}`);
      assert.match(sut.events.filter((e) => e.event === 'log').at(-1)?.id ?? '', /~o~[1-9]\d*~\d+$/, 'the cursor names the newer file');
      sut.close();
    } finally {
      kit.double.control.setLogLimits({});
    }
  });

  it('a follower reads on into each new file without gap fills, and a resume from a rotated-out file says lines may be missing', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    try {
      const follower = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`);
      await new Promise((r) => setTimeout(r, 500));
      const readsBefore = kit.double.control.requests().filter((c) => c.path.includes('/fs/logs/') && !c.query.includes('follow=true')).length;
      kit.double.control.setLogLimits({ maxFileBytes: 32, maxFiles: 2 });
      kit.double.control.appendLog(alloc, 'web', 'stdout', 'kept-0\n');
      await follower.until(() => follower.logText().includes('kept-0'));
      const lastId = follower.events.filter((e) => e.event === 'log').at(-1)?.id ?? '';
      const each = Array.from({ length: 12 }, (_, i) => `rotating-${String(i).padStart(2, '0')}\n`);
      const lines = each.join('');
      for (const line of each) {
        // Written as a task would (a line at a time), each write read before the next rotations delete its file.
        kit.double.control.appendLog(alloc, 'web', 'stdout', line);
        await follower.until(() => follower.logText().endsWith(line));
      }
      follower.close();
      assert.equal(follower.logText(), `kept-0\n${lines}`, 'every byte once, in order, across files');
      assert.equal(follower.events.some((e) => e.event === 'gap'), false);
      assert.ok(new Set(follower.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data).file)).size >= 4);
      const reads = kit.double.control.requests().filter((c) => c.path.includes('/fs/logs/') && !c.query.includes('follow=true')).length;
      assert.equal(reads - readsBefore, 0, 'the shared upstream carried the rotation: no history read to fill a gap');

      // MaxFiles 2: the file of lastId is gone. Exact resume is impossible: a gap notice, then what is still kept.
      const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`, { 'last-event-id': lastId });
      const gap = await sut.until((e) => e.event === 'gap');
      assert.deepEqual({ ...JSON.parse(gap.data), message: undefined }, {
        allocation: alloc, task: 'web', stream: 'stdout', fileIndex: Number(/~o~(\d+)~/.exec(lastId)?.[1]), offset: Number(/~(\d+)$/.exec(lastId)?.[1]),
        reason: 'rotated_out', message: undefined,
      });
      assert.match(JSON.parse(gap.data).message, /lines may be missing/);
      await sut.until(() => sut.logText().includes('rotating-11'));
      const text = sut.logText();
      assert.ok(lines.endsWith(text), `only the kept tail follows: ${JSON.stringify(text)}`);
      assert.ok(text.length < lines.length);
      assert.ok(sut.events.findIndex((e) => e.event === 'gap') < sut.events.findIndex((e) => e.event === 'log'), 'the notice comes before the lines after it');
      sut.close();
    } finally {
      kit.double.control.setLogLimits({});
    }
  });

  it('a rotation between the listing and the read is caught: one retry resumes exactly; when it happens again, a gap notice', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    const files = () => kit.double.control.state.allocs.get(alloc)?.logs.get('web.stdout')?.files;
    const dropOldest = () => { const f = files(); if (f && f.size > 1) f.delete(Math.min(...f.keys())); };
    try {
      kit.double.control.setLogLimits({ maxFileBytes: 40 });
      const first = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout&origin=start`);
      for (const line of ['one with some padding here\n', 'two with some padding here\n', 'three with some padding here\n']) {
        kit.double.control.appendLog(alloc, 'web', 'stdout', line);
        await first.until(() => first.logText().endsWith(line));
      }
      const lastId = first.events.filter((e) => e.event === 'log').at(-1)?.id ?? '';
      first.close();
      const missed = 'four with some padding here\nfive with some padding here\n';
      kit.double.control.appendLog(alloc, 'web', 'stdout', missed);

      // The oldest file disappears right as the first history read arrives (after the listing): that read starts too
      // late, which is noticed; the second listing is right.
      let reads = 0;
      const off = kit.double.control.onLogsRequest((r) => { if (r.allocId === alloc && !r.follow && reads++ === 0) dropOldest(); });
      const sut = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout&follow=false`, { 'last-event-id': lastId });
      await sut.until((e) => e.event === 'end');
      off();
      assert.equal(sut.logText(), missed, 'exactly what was missed');
      assert.equal(sut.events.some((e) => e.event === 'gap'), false);
      assert.equal(reads, 2, 'one retry');

      // Every read races a rotation: the second try is not trusted either, the client is told.
      const again = kit.double.control.onLogsRequest((r) => { if (r.allocId === alloc && !r.follow) dropOldest(); });
      const racing = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout&follow=false`, { 'last-event-id': lastId });
      await racing.until((e) => e.event === 'end');
      again();
      const gap = racing.events.find((e) => e.event === 'gap');
      assert.ok(gap, JSON.stringify(racing.events).slice(0, 400));
      assert.match(JSON.parse(gap.data).reason, /^(skipped|rotated_out)$/);
    } finally {
      kit.double.control.setLogLimits({});
    }
  });

  it('the shared upstream reconnects after a drop at its last (file, offset), across files rotated meanwhile', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    try {
      const follower = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`);
      await new Promise((r) => setTimeout(r, 500));
      kit.double.control.setLogLimits({ maxFileBytes: 32 });
      kit.double.control.appendLog(alloc, 'web', 'stdout', 'before-drop\n');
      await follower.until(() => follower.logText().includes('before-drop'));
      const opened = kit.runtime.logs.hub.upstreamsOpened;
      const reads = () => kit.double.control.requests().filter((c) => c.path.includes(`/fs/logs/${alloc}`) && !c.query.includes('follow=true')).length;
      const readsBefore = reads();
      const files = kit.double.control.state.allocs.get(alloc)?.logs.get('web.stdout')?.files;
      const bytesBeforeDrop = [...(files?.values() ?? [])].reduce((n, f) => n + f.length, 0);
      const followsBefore = kit.double.control.requests().filter((c) => c.path.includes(`/fs/logs/${alloc}`) && c.query.includes('follow=true')).length;
      kit.double.control.dropLogStreams();
      const lines = Array.from({ length: 8 }, (_, i) => `while-away-${i}\n`);
      for (const line of lines) kit.double.control.appendLog(alloc, 'web', 'stdout', line); // into files 1, 2, 3…
      await follower.until(() => follower.logText().includes('while-away-7'));
      follower.close();
      assert.ok(kit.runtime.logs.hub.upstreamsOpened > opened, 'the upstream reconnected');
      assert.equal(follower.logText(), `before-drop\n${lines.join('')}`, 'nothing lost, nothing twice');
      assert.equal(follower.events.some((e) => e.event === 'gap'), false);
      assert.equal(reads() - readsBefore, 0, 'the reconnected upstream continued exactly where it was: no gap to fill');
      const reconnect = kit.double.control.requests().filter((c) => c.path.includes(`/fs/logs/${alloc}`) && c.query.includes('follow=true'))[followsBefore];
      assert.match(reconnect?.query ?? '', new RegExp(`origin=start&offset=${bytesBeforeDrop}(&|$)`), 'from the cumulative offset of its last position, not re-reading older files');
    } finally {
      kit.double.control.setLogLimits({});
    }
  });

  it('shares one upstream per (allocation, task, stream) among subscribers', { timeout: 30_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const hub = kit.runtime.logs.hub;
    const before = hub.upstreamsOpened;
    const readers = await Promise.all(Array.from({ length: 20 }, () => SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?stream=stdout`)));
    await until(() => hub.subscribers === 20 && hub.positioned === 1); // every session listens, the upstream is at the end
    kit.double.control.appendLog(allocs[0]?.ID ?? '', 'web', 'stdout', 'to-everyone\n');
    await Promise.all(readers.map((x) => x.until(() => x.logText().includes('to-everyone'))));
    assert.equal(hub.upstreamsOpened - before, 1, 'one followed upstream for 20 subscribers');
    for (const x of readers) x.close();
    await until(() => kit.runtime.logs.activeSessions === 0);
    await until(() => hub.activeUpstreams === 0, 5_000);
  });

  it('drops a client that does not read, with a notice, and holds no more than the bound for it', { timeout: 60_000 }, async () => {
    const { target, allocs } = await kit.deployService();
    const alloc = allocs[0]?.ID ?? '';
    const url = new URL(`${kit.url}/api/services/${target.serviceId}/logs?stream=stdout`);
    const cookie = [...kit.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    // A raw client that sends the request and then stops reading: the socket buffers fill up.
    const sock = connect(Number(url.port), url.hostname);
    await new Promise((r) => sock.once('connect', r));
    sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\ncookie: ${cookie}\r\naccept: text/event-stream\r\n\r\n`);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    await until(() => Buffer.concat(chunks).includes('\r\n\r\n'));
    sock.pause();
    await new Promise((r) => setTimeout(r, 500));
    const chunk = `${'x'.repeat(99_999)}\n`;
    const heapBefore = process.memoryUsage().heapUsed;
    const total = 200 * chunk.length;
    for (let i = 0; i < 200 && kit.runtime.logs.activeSessions > 0; i++) {
      kit.double.control.appendLog(alloc, 'web', 'stdout', chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => kit.runtime.logs.activeSessions === 0, 20_000);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    const closed = new Promise((r) => sock.once('close', r));
    sock.resume();
    await closed;
    const received = Buffer.concat(chunks).toString('utf8');
    assert.match(received.slice(-400), /event: dropped\ndata: \{"reason":"slow_client"/, `ends with ${received.slice(-200)}`);
    assert.ok(received.length < total / 2, `the dropped client got ${received.length} bytes, far less than the ${total} written`);
    assert.ok(heapGrowth < 32 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
    assert.equal(kit.runtime.logs.activeSessions, 0);
  });

  it("another team's owner gets 404, and a wrong allocation is reported in the stream", { timeout: 30_000 }, async () => {
    const { target } = await kit.deployService();
    const stranger = kit.as(kit.owner.client);
    stranger.cookies = new Map();
    const anon = await SseReader.open(stranger, `/api/services/${target.serviceId}/logs`);
    assert.equal(anon.status, 401);
    const other = await SseReader.open(kit.client, `/api/services/00000000-0000-4000-8000-000000000000/logs`);
    assert.equal(other.status, 404);
    const wrong = await SseReader.open(kit.client, `/api/services/${target.serviceId}/logs?allocation=00000000-0000-4000-8000-000000000000`);
    const e = await wrong.until((x) => x.event === 'error');
    assert.match(e.data, /logs\/allocation_not_found/);
  });
});
