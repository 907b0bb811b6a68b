"""The one place the checker's harness waits: poll a condition until it
holds or a generous deadline passes, never a fixed sleep (a fixed sleep is
too short on a loaded machine and too long everywhere else;
scripts/check_test_waits.py enforces this)."""
import time


def wait_for(condition, timeout=30.0, poll=0.05):
    """Calls condition() until it returns true (returns True) or `timeout`
    seconds passed (returns False, after a last call at the deadline)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return bool(condition())
