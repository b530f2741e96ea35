"""Database work from a long-lived thread of the gateway (its database thread, a driver's own thread)."""

from __future__ import annotations


def db_guarded(fn, *args, **kwargs):
    """Run ``fn``; after a failure that left this thread's connection unusable (PostgreSQL restarted, the session
    killed, the network cut) close it, so the next call connects again. Django only does this around HTTP requests:
    without it the thread would keep the dead connection and every later call (historian writes included) would
    fail until the process restarts."""
    from django.db import connection

    try:
        return fn(*args, **kwargs)
    except Exception:  # Django's wrapped errors, and psycopg's own from the historian's raw COPY connection
        if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
            connection.close()
        raise


def _close_connection() -> None:
    from django.db import connection

    connection.close()


async def shut_down_db_thread(executor) -> None:
    """Close the database connection of a driver's one-thread executor (on that thread: connections are per thread),
    then shut the executor down. ``executor`` may be None (the driver never connected)."""
    import asyncio

    if executor is None:
        return
    try:
        await asyncio.get_running_loop().run_in_executor(executor, _close_connection)
    finally:
        executor.shutdown(wait=False)
