# Shortcuts; the scripts are the source of truth (and what the README and CI call).
.PHONY: serve test bench bench-media bench-qa bench-relay bench-bitrates bench-steering

serve:
	bash scripts/serve.sh

test:
	bash scripts/test.sh

# Benchmarks print JSON lines; they are measurements, never pass/fail. Heavy: one at a time.
bench: bench-media bench-qa bench-relay bench-bitrates bench-steering

bench-media:
	flock /tmp/vb-heavy.lock bash scripts/bench.sh --counts 1,16,64 --baseline

bench-qa:
	flock /tmp/vb-heavy.lock .venv/bin/python tests/bench/qa_fanout.py --clients 1000 5000 --rounds 20

bench-relay:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/relay_fanout.py run --counts 2,16,40

bench-bitrates:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/encode_bitrates.py --warmup 15 --window 20

bench-steering:
	flock /tmp/vb-heavy.lock bash scripts/netns.sh .venv/bin/python tests/bench/steering.py --rounds 100
