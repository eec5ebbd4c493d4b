"""The ping gate: pings queue while writes flow, stop queueing while the database refuses."""

from __future__ import annotations

import threading

from monitoring import ping_gate
from monitoring.ping_gate import PAUSE_S, Outcome, PingGate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_lets_one_ping_write_at_a_time_and_the_next_wait_its_turn(monkeypatch):
    monkeypatch.setattr(ping_gate, "TURN_WAIT_S", 5.0)
    gate = PingGate()
    assert gate.enter()
    entered = threading.Event()

    def second() -> None:
        if gate.enter():
            entered.set()
            gate.leave(Outcome.STORED)

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not entered.wait(0.2)  # waits for the first write
    gate.leave(Outcome.STORED)
    waiter.join(5)
    assert entered.is_set()


def test_it_refuses_at_once_after_a_refusal_then_lets_one_probe_through():
    clock = Clock()
    gate = PingGate(clock)
    assert gate.enter()
    gate.leave(Outcome.REFUSED)  # the database refused the write
    assert not gate.enter()  # paused: 503 without trying
    clock.now += PAUSE_S
    assert gate.enter()  # the probe
    assert not gate.enter()  # no queue behind a probe: another ping gets 503 at once
    gate.leave(Outcome.STORED)
    assert gate.enter()  # flowing again
    gate.leave(Outcome.STORED)


def test_it_sends_waiting_pings_away_when_the_write_before_them_was_refused(monkeypatch):
    monkeypatch.setattr(ping_gate, "TURN_WAIT_S", 5.0)
    gate = PingGate()
    assert gate.enter()
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(gate.enter()))
    waiter.start()
    waiter.join(0.2)
    gate.leave(Outcome.REFUSED)
    waiter.join(5)
    assert answers == [False]
