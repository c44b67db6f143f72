# Shortcuts; the scripts are the source of truth (and what the README and CI call).
.PHONY: serve test bench bench-media bench-scaling bench-qa bench-relay bench-bitrates bench-regions bench-link-repair bench-steering bench-languages bench-hls bench-remux bench-recording-index

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh

# Benchmarks print JSON lines; they are measurements, never pass/fail. Heavy: one at a time.
bench: bench-media bench-scaling bench-qa bench-relay bench-bitrates bench-regions bench-steering

# venuebridge and Janus 1.1.2 (installed by scripts/bench.sh if missing, as root) in the
# same run: H.264 and VP8 at 720p 2.5 Mbit/s and 360p 1 Mbit/s, 1/16/64 subscribers
# (8-15 minutes). `--baseline` adds aiortc's MediaRelay; `--servers venuebridge` skips Janus.
bench-media:
	flock /tmp/vb-heavy.lock bash scripts/bench.sh --counts 1,16,64

# Subscribers carried at >= 29 fps with 1 and with 2 workers (`serve --workers N`, Redis).
bench-scaling:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/scaling.py

bench-qa:
	flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/qa_fanout.py --clients 1000 5000 20000 --rounds 20 --baseline aiohttp websockets

bench-relay:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/relay_fanout.py run --counts 2,16,40

# Issue 13's three: origin CPU against 1..200 edge viewers; added latency per hop and a late
# joiner through two hops; an edge viewer under 2 % and 5 % loss with 150 ms one-way delay.
bench-regions:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/relay_fanout.py run --counts 1,10,50,100,200
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/regions.py hops
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/regions.py loss --loss 0,2,5 --delay-ms 150 --seconds 30

bench-bitrates:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/encode_bitrates.py --warmup 15 --window 20

# Not in `bench`: the repair of one relay link through seeded loss and 150 ms each way.
bench-link-repair:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/link_repair.py --loss 2,5,10 --one-way-ms 150 --seconds 30

bench-languages:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/language_switch.py --rounds 10

bench-steering:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/steering.py --rounds 100

# HLS through nginx (proxy_cache): origin requests with and without the cache.
bench-hls:
	flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/hls_cache.py --players 50 200 --seconds 20

# What recording costs per second of media (depacketize + remux), against forwarding alone.
bench-remux:
	flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/remux.py --seconds 10

# Reading the recording index as /records and the player do (tests/bench/recording_index.py).
bench-recording-index:
	.venv/bin/python tests/bench/recording_index.py
