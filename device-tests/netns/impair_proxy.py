"""Userspace TCP impairment proxy for the two-namespace streaming test (device-tests/netns-stream.sh).

Forwards LISTEN -> TARGET, adding one-way latency per chunk, cutting every connection during scheduled outages
(and refusing new ones until the outage ends), and resetting connections at random (seeded). TCP itself never
loses or reorders bytes, so loss on a real link shows up to the application as stalls and broken connections:
that is what this proxy produces. Bounded: it exits after --duration seconds. Loopback / namespace addresses only.
"""
import argparse
import asyncio
import random
import time


async def pipe(reader, writer, latency, state):
    try:
        while True:
            data = await reader.read(16384)
            if not data:
                break
            if latency:
                await asyncio.sleep(latency)
            writer.write(data)
            await writer.drain()
            state["bytes"] += len(data)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)            # host:port
    ap.add_argument("--target", required=True)            # host:port
    ap.add_argument("--latency-ms", type=float, default=40)
    ap.add_argument("--outage", action="append", default=[], help="start:length in seconds, repeatable")
    ap.add_argument("--reset-per-second", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--duration", type=float, default=300)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    lhost, lport = a.listen.rsplit(":", 1)
    thost, tport = a.target.rsplit(":", 1)
    outages = [tuple(float(x) for x in o.split(":")) for o in a.outage]
    start = time.monotonic()
    state = {"bytes": 0, "conns": 0, "cuts": 0}
    live = set()

    def in_outage():
        t = time.monotonic() - start
        return any(s <= t < s + n for s, n in outages)

    async def handle(creader, cwriter):
        if in_outage():
            cwriter.close()
            return
        state["conns"] += 1
        try:
            treader, twriter = await asyncio.open_connection(thost, int(tport))
        except OSError:
            cwriter.close()
            return
        tasks = [asyncio.create_task(pipe(creader, twriter, a.latency_ms / 1000, state)),
                 asyncio.create_task(pipe(treader, cwriter, a.latency_ms / 1000, state))]
        live.add((cwriter, twriter))
        await asyncio.gather(*tasks, return_exceptions=True)
        live.discard((cwriter, twriter))

    server = await asyncio.start_server(handle, lhost, int(lport))
    print(f"proxy {a.listen} -> {a.target}, latency {a.latency_ms} ms, outages {outages}", flush=True)
    async with server:
        was_down = False
        while time.monotonic() - start < a.duration:
            await asyncio.sleep(0.1)
            down = in_outage()
            if down and not was_down:
                print(f"outage at {time.monotonic() - start:.1f}s: cutting {len(live)} connection(s)", flush=True)
            if down or (live and rng.random() < a.reset_per_second * 0.1):
                for c, t in list(live):
                    c.close()
                    t.close()
                    state["cuts"] += 1
                live.clear()
            was_down = down
    print(f"proxy done: {state['conns']} connections, {state['cuts']} cut, {state['bytes']} bytes forwarded", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
