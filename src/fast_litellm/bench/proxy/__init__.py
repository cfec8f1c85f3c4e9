"""End-to-end benchmark: the real LiteLLM proxy, stock vs fast_litellm preloaded.

mock_upstream -- a local OpenAI-compatible upstream with a fixed latency
loadgen       -- a closed-loop load generator (its own process)
procs         -- process supervision (always cleaned up) and CPU/RSS sampling
runner        -- puts them together: `run_proxy_bench(...)`
profile       -- top frames by own time from py-spy (or cProfile)
"""
