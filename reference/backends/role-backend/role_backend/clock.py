"""Wall-clock milliseconds: the checks compare arrival times with their own clocks, on
the same machine, so arrival times are epoch milliseconds (µs resolution), not monotonic."""

import time


def now_ms() -> float:
    return round(time.time() * 1000.0, 3)
