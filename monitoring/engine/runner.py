"""Running a probe engine: on the current loop with signal handling, or in a thread of its own."""

from __future__ import annotations

import asyncio
import signal
import threading

from monitoring.engine.core import EngineConfig, ProbeEngine

try:
    import uvloop
except ImportError:  # not on every platform; the engine runs on asyncio's own loop then
    uvloop = None  # type: ignore[assignment]


async def serve(
    engine: ProbeEngine,
    *,
    duration: float | None = None,
    handle_signals: bool = True,
    stop_event: threading.Event | None = None,
) -> None:
    """Run an engine on the current loop, stopping on SIGTERM/SIGINT or a thread's event."""
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.request_stop)
    watcher = asyncio.create_task(_watch(stop_event, engine)) if stop_event else None
    try:
        await engine.run(duration=duration)
    finally:
        if watcher is not None:
            watcher.cancel()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)


async def _watch(stop_event: threading.Event, engine: ProbeEngine) -> None:
    """Bridge a stop asked from another thread (an in-process supervisor) to the engine."""
    # A threading.Event cannot be awaited; polling it blocks no thread and ends with the loop.
    while not stop_event.is_set():  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    engine.request_stop()


def run_engine(
    *,
    duration: float | None = None,
    use_uvloop: bool = True,
    stop_event: threading.Event | None = None,
    config: EngineConfig | None = None,
) -> ProbeEngine:
    """Run the probe engine in this thread until SIGTERM/SIGINT, ``stop_event`` or ``duration``.

    Signals are handled only when called from the main thread (a supervisor running the engine
    in a thread stops it through ``stop_event``). Returns the stopped engine (for its counts).
    """
    factory = uvloop.new_event_loop if use_uvloop and uvloop is not None else None
    on_main = threading.current_thread() is threading.main_thread()
    with asyncio.Runner(loop_factory=factory) as runner:
        engine = runner.run(_make_engine(config))
        runner.run(serve(engine, duration=duration, handle_signals=on_main, stop_event=stop_event))
    return engine


async def _make_engine(config: EngineConfig | None) -> ProbeEngine:
    """Create the engine inside the loop it will run on."""
    return ProbeEngine(config)
