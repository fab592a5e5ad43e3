"""The journey chart's geometry: one line per rule, points inside the frame, odd values left out."""

from __future__ import annotations

from sandbox.api.hosted.chart import COLOURS, disparity_chart


def _run(*items: dict[str, object]) -> dict[str, object]:
    return {"disparities": list(items)}


def test_lines_follow_each_rule_across_runs() -> None:
    rule = {"rule_id": "fairness.parity", "metric": "selection_rate", "threshold": 0.8}
    runs = [_run(rule | {"value": 0.7}), _run(), _run(rule | {"value": 0.9})]
    chart = disparity_chart(runs)
    assert chart is not None
    [line] = chart.lines
    assert line.label == "fairness.parity (selection_rate)" and line.colour == COLOURS[0]
    assert [shown for _, _, shown in line.points] == ["0.7", "0.9"]
    (x1, y1, _), (x2, y2, _) = line.points
    assert chart.left < x1 < x2 < chart.right and chart.top <= y2 < y1 <= chart.bottom
    assert line.threshold_y is not None and y2 < line.threshold_y < y1
    assert [label for _, label in chart.x_ticks] == ["run 1", "run 2", "run 3"]
    assert chart.y_ticks and chart.hidden == 0


def test_values_that_are_not_numbers_are_not_drawn() -> None:
    odd = [{"rule_id": "fairness.a", "value": v} for v in (None, "0.5", True, float("nan"))]
    assert disparity_chart([_run(*odd), _run({"value": 0.5})]) is None
    many = [{"rule_id": f"fairness.r{i}", "value": i / 10} for i in range(len(COLOURS) + 2)]
    chart = disparity_chart([_run(*many)])
    assert chart is not None and len(chart.lines) == len(COLOURS) and chart.hidden == 2
