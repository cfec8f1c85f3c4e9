"""Proxy limiter hot path (see fast_litellm.cache)."""
