"""Session 21 hunt on the standalone components: bad arguments give both
twins' same error (type and message), and a subclass's own methods
(__eq__, __hash__, comparisons) never decide a check.  One suite over both
twins (the ``impl`` fixture)."""
from __future__ import annotations

import decimal
import fractions

import pytest

from fast_litellm import monitor, pool, ratelimit
from fast_litellm.monitor import PerformanceMonitor








def error_of(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


# -- type names in messages: type(x).__name__ in both twins ------------------
# (the C binding printed tp_name: "decimal.Decimal" where the twin says "Decimal")

FOREIGN = [decimal.Decimal("1"), fractions.Fraction(1, 3), 1j]


@pytest.mark.parametrize("value", FOREIGN, ids=lambda v: type(v).__name__)
def test_type_names_in_errors_are_dunder_name(impl, value):
    name = type(value).__name__
    rl = ratelimit.implementation(impl).SimpleRateLimiter(60)
    assert error_of(lambda: rl.check(value)) == (TypeError, "key must be a str or None, not %s" % name)
    assert error_of(lambda: rl.check("k", value)) == (TypeError, "cost must be an int, not %s" % name)
    assert error_of(lambda: rl.get_remaining(value)) == (TypeError, "key must be a str or None, not %s" % name)
    assert error_of(lambda: ratelimit.implementation(impl).key_fingerprint(value)) == (
        TypeError, "key must be a str or None, not %s" % name)
    rl_clock = ratelimit.implementation(impl).SimpleRateLimiter(60, clock=lambda: value)
    assert error_of(lambda: rl_clock.check("k")) == (
        TypeError, "clock must return seconds as a float, not %s" % name)
    p = pool.implementation(impl).SimpleConnectionPool("p")
    assert error_of(lambda: p.get_connection(value)) == (TypeError, "endpoint must be a str, not %s" % name)
    assert error_of(lambda: p.return_connection(value)) == (
        TypeError, "connection_id must be a str, not %s" % name)
    mon = PerformanceMonitor(monitor.implementation(impl).Monitor(), impl)
    assert error_of(lambda: mon.record_performance(value, "op", 1.0)) == (
        TypeError, "component must be str, not %s" % name)
    assert error_of(lambda: mon.record_performance("c", "op", value)) == (
        TypeError, "duration_ms must be int or float, not %s" % name)
    assert error_of(lambda: mon.record_performance("c", "op", 1.0, True, value)) == (
        TypeError, "input_size must be int or None, not %s" % name)
    assert error_of(lambda: monitor.implementation(impl).Monitor(max_series=value)) == (
        TypeError, "max_series must be int, not %s" % name)
