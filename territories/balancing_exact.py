"""The exact steps of territory balancing (`territories.balancing`): CP-SAT models that move
the fewest accounts, over the whole book or over groups of four territories at a time."""

from __future__ import annotations

import time
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from ortools.sat.python import cp_model

if TYPE_CHECKING:  # the dataclasses live with the entry point, which imports this module
    from .balancing import BalanceSpec, Bands


#: Per territory, the (coefficient, move) terms that change its potential or its count.
_Flow = list[list[tuple[int, cp_model.IntVar]]]


def _move_vars(
    model: cp_model.CpModel,
    *,
    potential: np.ndarray,
    home: np.ndarray,
    territories: int,
    pairs: dict[int, list[int]],
    hint: np.ndarray,
) -> tuple[_Flow, _Flow, dict[tuple[int, int], cp_model.IntVar]]:
    """One yes/no variable per allowed (account, territory) move, hinted from `hint`."""
    flow: _Flow = [[] for _ in range(territories)]
    count_flow: _Flow = [[] for _ in range(territories)]
    chosen: dict[tuple[int, int], cp_model.IntVar] = {}
    for a, targets in pairs.items():
        s = int(home[a])
        options = []
        for r in targets:
            x = model.new_bool_var(f"x{a}_{r}")
            chosen[(a, r)] = x
            options.append(x)
            pa = int(potential[a])
            if pa:
                flow[s].append((-pa, x))
                flow[r].append((pa, x))
            count_flow[s].append((-1, x))
            count_flow[r].append((1, x))
            if hint[a] == r:
                model.add_hint(x, 1)
            else:
                model.add_hint(x, 0)
        model.add_at_most_one(options)
    return flow, count_flow, chosen


def _band_constraints(
    model: cp_model.CpModel,
    *,
    potential: np.ndarray,
    home: np.ndarray,
    territories: int,
    bands: Bands,
    flow: _Flow,
    count_flow: _Flow,
    soft: bool,
) -> list[cp_model.IntVar]:
    """Keep each territory's potential (and count) in its band; soft: the slack variables."""
    load = np.bincount(home, weights=potential, minlength=territories).astype(np.int64)
    count = np.bincount(home, minlength=territories).astype(np.int64)
    slack_terms = []
    unit = max(1, int(bands.mean) // 1000)  # violation is priced per 0.1% of the mean
    for t in range(territories):
        expr = int(load[t]) + cp_model.LinearExpr.weighted_sum(
            [x for _, x in flow[t]], [c for c, _ in flow[t]]
        )
        cexpr = int(count[t]) + cp_model.LinearExpr.weighted_sum(
            [x for _, x in count_flow[t]], [c for c, _ in count_flow[t]]
        )
        if soft:
            top = int(max(load.sum(), 1))
            under = model.new_int_var(0, top // unit + 1, f"under{t}")
            over = model.new_int_var(0, top // unit + 1, f"over{t}")
            model.add(expr + unit * under >= bands.low)
            model.add(expr - unit * over <= bands.high)
            slack_terms += [under, over]
        else:
            model.add(expr >= bands.low)
            model.add(expr <= bands.high)
        if bands.count_low is not None:
            if soft:
                cu = model.new_int_var(0, len(potential), f"cu{t}")
                co = model.new_int_var(0, len(potential), f"co{t}")
                model.add(cexpr + cu >= bands.count_low)
                model.add(cexpr - co <= bands.count_high)
                slack_terms += [cu, co]
            else:
                model.add(cexpr >= bands.count_low)
                model.add(cexpr <= bands.count_high)
    return slack_terms


def _solve(
    *,
    potential: np.ndarray,
    home: np.ndarray,
    territories: int,
    bands: Bands,
    pairs: dict[int, list[int]],
    hint: np.ndarray,
    soft: bool,
    lower_bound: int,
    spec: BalanceSpec,
    time_limit: float,
) -> tuple[np.ndarray | None, str]:
    """Fewest moves over `pairs` (account -> territories it may go to). Returns the new
    territory of every account (None when no solution was found) and the solver status."""
    model = cp_model.CpModel()
    flow, count_flow, chosen = _move_vars(model, potential=potential, home=home,
                                          territories=territories, pairs=pairs, hint=hint)
    moves = list(chosen.values())
    slack_terms = _band_constraints(model, potential=potential, home=home,
                                    territories=territories, bands=bands, flow=flow,
                                    count_flow=count_flow, soft=soft)
    weight = len(moves) + 1
    if soft:
        model.minimize(
            weight * cp_model.LinearExpr.sum(slack_terms) + cp_model.LinearExpr.sum(moves)
        )
    else:
        # A valid bound for every solution, so the solver can stop as soon as it reaches it.
        model.add(cp_model.LinearExpr.sum(moves) >= lower_bound)
        model.minimize(cp_model.LinearExpr.sum(moves))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit, 0.5)
    solver.parameters.num_workers = max(1, spec.workers)
    solver.parameters.random_seed = spec.seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, solver.status_name(status)
    result = home.copy()
    for (a, r), x in chosen.items():
        if solver.boolean_value(x):
            result[a] = r
    return result, solver.status_name(status)


def _neighbourhood(
    potential: np.ndarray, home: np.ndarray, greedy: np.ndarray, territories: int, bands: Bands,
    count_tolerance: Fraction | None,
) -> dict[int, list[int]]:
    load = np.bincount(home, weights=potential, minlength=territories)
    count = np.bincount(home, minlength=territories)
    band_p = max(float(bands.mean) * 0.01, 1.0)
    band_c = max(float(bands.count_mean) * 0.01, 1.0)
    need = (load - float(bands.mean)) / band_p
    if count_tolerance is not None:
        need = need + (count - float(bands.count_mean)) / band_c
    over = (load > float(bands.mean)) | (
        (count > float(bands.count_mean)) if count_tolerance is not None else False
    )
    under = (load < float(bands.mean)) | (
        (count < float(bands.count_mean)) if count_tolerance is not None else False
    )
    receivers = [int(t) for t in np.argsort(need, kind="stable") if under[t]][:20]
    pairs: dict[int, set[int]] = {}
    for t in np.flatnonzero(over):
        members = np.flatnonzero(home == t)
        ranked = members[np.argsort(potential[members], kind="stable")]
        picks = set(ranked[-25:].tolist())
        if count_tolerance is not None:
            picks |= set(ranked[:10].tolist())
        if len(ranked) > 0:
            picks |= set(ranked[np.linspace(0, len(ranked) - 1, 15).astype(int)].tolist())
        for a in picks:
            pairs.setdefault(int(a), set()).update(r for r in receivers if r != t)
    for a in np.flatnonzero(greedy != home):
        pairs.setdefault(int(a), set()).add(int(greedy[a]))
    return {a: sorted(r for r in targets if r != home[a]) for a, targets in pairs.items()}


def _improve_by_groups(
    *,
    potential: np.ndarray,
    home: np.ndarray,
    current: np.ndarray,
    territories: int,
    bands: Bands,
    spec: BalanceSpec,
    deadline: float,
    group_size: int = 4,
) -> np.ndarray:
    """Large-neighbourhood search: re-solve small groups of territories exactly with CP-SAT.

    A group is a territory and the territories it exchanged most accounts with. Inside the
    group every account that is both from and now in the group may go to any group territory;
    the rest stay put, so territories outside the group see no change. Each solve starts from
    the current answer, so the number of moves never grows.
    """
    current = current.copy()
    tried: set[frozenset[int]] = set()
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        moved = current != home
        links = np.zeros((territories, territories), dtype=np.int64)
        np.add.at(links, (home[moved], current[moved]), 1)
        links = links + links.T
        busiest = np.argsort(-links.sum(axis=1), kind="stable")
        for t in busiest:
            if links[t].sum() == 0 or time.perf_counter() >= deadline:
                break
            partners = [int(r) for r in np.argsort(-links[t], kind="stable")[: group_size - 1]
                        if links[t, r] > 0]
            group = frozenset([int(t), *partners])
            if group in tried:
                continue
            tried.add(group)
            before = int((current != home).sum())
            current = _solve_group(
                potential=potential, home=home, current=current, group=sorted(group),
                bands=bands, spec=spec, time_limit=min(0.5, deadline - time.perf_counter()),
            )
            if int((current != home).sum()) < before:
                improved = True
                tried.clear()
                break
    return current


def _solve_group(
    *, potential: np.ndarray, home: np.ndarray, current: np.ndarray, group: list[int],
    bands: Bands, spec: BalanceSpec, time_limit: float,
) -> np.ndarray:
    in_group = np.isin(current, group)
    free = np.flatnonzero(in_group & np.isin(home, group))
    if len(free) == 0 or time_limit <= 0:
        return current
    model = cp_model.CpModel()
    choice = {}
    for a in free:
        row = [model.new_bool_var(f"y{a}_{t}") for t in group]
        model.add_exactly_one(row)
        for t, y in zip(group, row, strict=True):
            choice[(int(a), t)] = y
            model.add_hint(y, int(current[a] == t))
    fixed = in_group.copy()
    fixed[free] = False
    for t in group:
        mine = fixed & (current == t)
        base, base_count = int(potential[mine].sum()), int(mine.sum())
        ys = [choice[(int(a), t)] for a in free]
        model.add_linear_constraint(
            cp_model.LinearExpr.weighted_sum(ys, [int(potential[a]) for a in free]),
            bands.low - base, bands.high - base,
        )
        if bands.count_low is not None and bands.count_high is not None:
            model.add_linear_constraint(
                cp_model.LinearExpr.sum(ys), bands.count_low - base_count,
                bands.count_high - base_count,
            )
    stays = [choice[(int(a), int(home[a]))] for a in free]
    model.maximize(cp_model.LinearExpr.sum(stays))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = max(1, spec.workers)
    solver.parameters.random_seed = spec.seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return current
    result = current.copy()
    for (area, territory), y in choice.items():
        if solver.boolean_value(y):
            result[area] = territory
    if (result != home).sum() > (current != home).sum():
        return current
    return result
