"""Hostile argument types shared by the bad-input tests (test_hunt21,
test_flags, test_pool, test_ratelimit): subclasses whose own methods would decide a check that should
read the value."""


class IntLies(int):
    """An int whose comparisons say it is in range whatever it holds."""

    def __lt__(self, other):
        return False

    def __gt__(self, other):
        return False

    def __le__(self, other):
        return True

    def __ge__(self, other):
        return True


class FloatLies(float):
    """A float whose comparisons say it is in range whatever it holds."""

    def __lt__(self, other):
        return False

    def __le__(self, other):
        return True

    def __gt__(self, other):
        return True

    def __ge__(self, other):
        return True
