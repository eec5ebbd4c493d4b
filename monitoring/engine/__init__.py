"""The probe engine: schedules every enabled monitor and runs its checks on one asyncio loop.

Kept free of imports so that check kinds can import :mod:`monitoring.engine.target` without
pulling in the engine (which itself imports the check registry).
"""
