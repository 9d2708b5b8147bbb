"""Walking a path at a steady speed (through a zero-length first leg, to the end, or
round a loop) and scenario time that stands still while paused and after the end."""

from __future__ import annotations

import pytest

from streamer.scenario.actors import ActorMotion, Walk, along
from streamer.scenario.clock import ScenarioClock

SQUARE = ((2.0, 0.0, 0.0), (2.0, 0.0, 2.0), (0.0, 0.0, 2.0), (0.0, 0.0, 0.0))


def test_along_clamps_to_the_ends_and_skips_zero_length_legs() -> None:
    points = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (4.0, 0.0, 0.0))

    assert along(points, 1.0) == (1.0, 0.0, 0.0)
    assert along(points, 99.0) == (4.0, 0.0, 0.0)
    assert along(points, 0.0) == (0.0, 0.0, 0.0)


def test_a_walk_goes_from_its_origin_through_the_points_and_stops_at_the_last() -> None:
    walk = Walk(10.0, (0.0, 0.0, 0.0), SQUARE, speed_m_s=1.0, loop=False)

    assert walk.position(9.0) == (0.0, 0.0, 0.0)  # before it began
    assert walk.position(11.0) == (1.0, 0.0, 0.0)
    assert walk.position(13.0) == (2.0, 0.0, 1.0)
    assert walk.position(100.0) == (0.0, 0.0, 0.0)


def test_a_looping_walk_goes_round_again_from_the_first_point() -> None:
    walk = Walk(0.0, (2.0, 0.0, -2.0), SQUARE, speed_m_s=2.0, loop=True)

    # 2 m to the first point, then 8 m per lap of the square
    assert walk.position(1.0) == (2.0, 0.0, 0.0)
    assert walk.position(2.0) == (2.0, 0.0, 2.0)
    assert walk.position(4.5) == pytest.approx((1.0, 0.0, 0.0))  # closing the square
    assert walk.position(1.0 + 4.0) == pytest.approx((2.0, 0.0, 0.0))
    assert walk.position(1.0 + 4.0 * 10 + 0.5) == pytest.approx((2.0, 0.0, 1.0))


def test_a_loop_of_one_point_stays_there() -> None:
    walk = Walk(0.0, (0.0, 0.0, 0.0), ((1.0, 0.0, 0.0),), speed_m_s=1.0, loop=True)

    assert walk.position(50.0) == (1.0, 0.0, 0.0)


def test_a_new_walk_starts_where_the_actor_has_got_to() -> None:
    actor = ActorMotion("coworker", home=(0.0, 0.0, 0.0), speed_m_s=1.0)
    actor.walk_to([(10.0, 0.0, 0.0)], loop=False, t=0.0)
    actor.walk_to([(3.0, 0.0, 4.0)], loop=False, t=3.0)  # from (3, 0, 0), 4 m away

    assert actor.offset(5.0) == (3.0, 0.0, 2.0)
    assert actor.offset(60.0) == (3.0, 0.0, 4.0)


def test_scenario_time_skips_pauses_and_stops_at_the_end() -> None:
    clock = ScenarioClock()
    assert clock.t(5.0) == 0.0  # not started
    clock.start(100.0)
    assert clock.t(99.0) == 0.0  # never negative
    clock.pause(103.0)
    assert clock.t(110.0) == 3.0
    clock.resume(120.0)
    assert clock.t(121.0) == 4.0
    clock.stop(clock.t(125.0))

    assert clock.t(500.0) == 8.0
    assert not clock.paused
