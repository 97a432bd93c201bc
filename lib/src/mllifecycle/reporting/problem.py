"""Step 1 in plain words: reports/problem.md, the problem spec as a reader meets it."""

from __future__ import annotations

from ..config import ProblemSpec


def statement(problem: ProblemSpec) -> str:
    lines = [
        f"# Problem: {problem.name}",
        "",
        f"**Decision automated.** {problem.decision}",
        "",
        f"**Task.** {problem.task.replace('_', ' ')}, predicting `{problem.target}`.",
        "",
        "## What a decision is worth",
        "",
    ]
    lines += problem.value_statement()
    criteria, constraints = problem.success_criteria, problem.constraints
    lines += [
        "",
        "## Success criteria (checked by `evaluate`)",
        "",
        f"- net value per 1,000 decisions at least {criteria.min_uplift_per_1000:g} above "
        "the baseline's",
    ]
    if criteria.min_value_per_1000 is not None:
        lines.append(f"- net value per 1,000 decisions at least {criteria.min_value_per_1000:g}")
    lines += [f"- {metric} at least {floor:g}" for metric, floor in criteria.metric_floors.items()]
    lines += [
        "",
        "## Constraints",
        "",
        f"- p99 latency at most {constraints.p99_latency_ms:g} ms",
        f"- at least {constraints.min_rows} rows of labelled data",
        f"- explainable model required: {'yes' if constraints.explainable else 'no'}",
        "",
    ]
    return "\n".join(lines)
