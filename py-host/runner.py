"""Runs the test functions of the named modules, each in a fresh temporary directory, and
ends with the line `py-host: N passed, M failed` (exit status 1 when any failed)."""

import importlib
import inspect
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, List, Tuple

from checks import Sandbox

Test = Callable[[Sandbox], None]


def collect(module_name: str) -> List[Tuple[str, Test]]:
    """The module's `test_*` functions, in the order they are written."""
    module = importlib.import_module(module_name)
    tests = [(name, function) for name, function in vars(module).items()
             if name.startswith("test_") and inspect.isfunction(function)
             and function.__module__ == module.__name__]
    return sorted(tests, key=lambda test: test[1].__code__.co_firstlineno)


def run_one(test: Test) -> Tuple[bool, str]:
    """Runs one test in a new temporary directory; whether it passed, and why not."""
    with tempfile.TemporaryDirectory(prefix="py-host-") as root:
        try:
            test(Sandbox(Path(root)))
        except Exception:
            return False, traceback.format_exc()
    return True, ""


def main(module_names: List[str]) -> int:
    """Runs every test of `module_names`, prints one line each and the totals."""
    passed = failed = 0
    started = time.monotonic()
    for module_name in module_names:
        for name, test in collect(module_name):
            test_started = time.monotonic()
            success, failure = run_one(test)
            seconds = time.monotonic() - test_started
            print(f"{'ok  ' if success else 'FAIL'} {module_name}.{name} ({seconds:.2f} s)",
                  flush=True)
            if success:
                passed += 1
            else:
                failed += 1
                print(failure, file=sys.stderr, flush=True)
    print(f"{passed + failed} tests in {time.monotonic() - started:.1f} s")
    print(f"py-host: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["contract", "dbms"]))
