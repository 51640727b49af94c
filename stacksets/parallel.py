"""A bounded parallel map for reads in many accounts: at most ``workers`` calls at a time.

The deployer's reads in member accounts (their stacks, their outputs, the templates of OUTDATED
instances) each wait on one API call; run one after another they cost the latency times the
instance count. :func:`parallel_map` runs them on a thread pool instead, results in input order.
The boto3 clients they use are thread-safe; :class:`~stacksets.session.ClientFactory` makes and
caches them safely from any thread.

On failure: the calls not yet started are cancelled, the ones running finish, and the exception
of the first item (in input order) that failed is raised, with the others discarded. With
``workers`` 1 (or one item) nothing runs in a thread: the items are mapped in order and the first
exception stops the rest, which is the same contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["parallel_map"]

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, workers: int) -> list[R]:
    """``[fn(item) for item in items]`` with at most ``workers`` calls at a time (see the module
    docstring for what happens when a call raises). ``workers`` must be at least 1."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    todo = list(items)
    if workers == 1 or len(todo) <= 1:
        return [fn(item) for item in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo)), thread_name_prefix="reads") as pool:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in todo]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()  # not started: never runs; running: finishes (the pool waits for it)
    for future in futures:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]
