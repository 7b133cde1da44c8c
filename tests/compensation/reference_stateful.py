"""Per-row reference for the stateful steps: draws period by period, clawbacks line by line."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pandas as pd

from compensation.engine.plans import Draw

from .reference_common import (
    NA,
    Env,
    as_date,
    as_fraction,
    count,
    money,
    money_label,
    round_half_up,
    to_cents,
)


def reference_draws(plans, assignments, lines, calendar, opening=None):
    """Draw lines and closing balances, period by period and payee by payee."""
    env = Env(plans, pd.DataFrame({"period": [], "payee_id": [], "credit_id": [],
                                   "credit_date": []}),
              pd.DataFrame({"period": []}), assignments, None, calendar)
    proration = defaultdict(list)
    for row in assignments.to_dict("records"):
        share = as_fraction(row["proration"]) if "proration" in row else Fraction(1)
        proration[(row["payee_id"], str(row["period"]), str(row["plan"]))].append(share)
    balances = defaultdict(int)
    if opening is not None:
        for row in opening.to_dict("records"):
            balances[(row["payee_id"], row["component"])] += int(row["balance_cents"])
    out = []
    for key, plan in plans.items():
        for comp in plan.components:
            if not isinstance(comp.formula, Draw):
                continue
            draw = comp.formula
            payees = sorted({a["payee"] for a in env.assign_rows} | {
                line["payee_id"] for line in lines})
            for window in env.windows(comp.period):
                pay = env.pay_period(window, comp.period)
                months = env.months(window, comp.period)
                for payee in payees:
                    if not any((payee, m, key) in env.held for m in months):
                        continue
                    earned = sum(line["amount_cents"] for line in lines
                                 if line["payee_id"] == payee and line["plan"] == key
                                 and line["kind"] != "draw" and line["period"] in months)
                    if draw.of_target is not None:
                        amount = round_half_up(env.target_of(payee, months, key)
                                               * Fraction(draw.of_target))
                    else:
                        amount = sum(round_half_up(to_cents(draw.amount) * share / len(months))
                                     for m in months for share in proration[(payee, m, key)])
                    if draw.last_draw_period and env.pos[pay] > env.pos.get(
                            draw.last_draw_period, -1):
                        amount = 0
                    balance_key = (payee, comp.code)
                    common = {"payee_id": payee, "period": pay, "window": window,
                              "plan": key, "component": comp.code, "kind": "draw",
                              "deal_id": NA, "credit_id": NA, "measure": "amount",
                              "basis": earned, "cumulative": NA, "quota": NA, "tier": NA,
                              "rate": NA, "rounding_carry_cents": 0, "capped_cents": 0}
                    if amount > 0 and earned < amount:
                        top = amount - earned
                        if not draw.recoverable:
                            out.append({**common, "line_type": "guarantee", "amount_cents": top,
                                        "explanation": f"guarantee: earned {money(earned)} is "
                                        f"below the {money(amount)} guarantee: top-up "
                                        f"{money(top)}"})
                            continue
                        balances[balance_key] += top
                        out.append({**common, "line_type": "draw_advance", "amount_cents": top,
                                    "explanation": f"draw: earned {money(earned)} is below the "
                                    f"{money(amount)} draw: advance {money(top)}, balance "
                                    f"{money(balances[balance_key])}"})
                        continue
                    if not draw.recoverable or earned <= amount:
                        continue
                    if draw.recovery_start and env.pos[pay] < env.pos.get(draw.recovery_start, 0):
                        continue
                    owed = balances[balance_key]
                    take = min(owed, earned - amount)
                    if draw.max_recovery_per_period is not None:
                        take = min(take, to_cents(draw.max_recovery_per_period))
                    if take <= 0:
                        continue
                    balances[balance_key] -= take
                    most = f", at most {money_label(draw.max_recovery_per_period)} a period" \
                        if draw.max_recovery_per_period is not None else ""
                    out.append({**common, "line_type": "draw_recovery", "amount_cents": -take,
                                "explanation": f"draw recovery: earned {money(earned)} is above "
                                f"the {money(amount)} draw: recovers {money(take)} of the "
                                f"{money(owed)} balance{most}; balance "
                                f"{money(balances[balance_key])}"})
    closing = {k: v for k, v in balances.items() if v}
    return out, closing


def reference_clawbacks(plans, events, paid_lines, calendar):
    """Reversal lines for each cancelled deal's credit lines, one by one."""
    pos = {p: i for i, p in enumerate(calendar.periods)}
    policy = {(key, c.code): c.clawback for key, plan in plans.items()
              for c in plan.components if c.clawback is not None}
    done = {(line["payee_id"], line["plan"], line["component"], line["credit_id"])
            for line in paid_lines if line["line_type"] == "clawback"}
    by_deal = {event["deal_id"]: event for event in events.to_dict("records")}
    out = []
    for line in paid_lines:
        event = by_deal.get(line["deal_id"])
        if event is None:
            continue
        closed, cancelled = as_date(event["close_date"]), as_date(event["cancel_date"])
        if cancelled < closed:
            continue
        days = (cancelled - closed).days
        rule = policy.get((line["plan"], line["component"]))
        if (line["line_type"] != "credit" or rule is None or days > rule.within_days
                or pos[line["period"]] > pos[str(event["period"])]
                or (line["payee_id"], line["plan"], line["component"], line["credit_id"])
                in done):
            continue
        if rule.method == "full":
            reversed_cents = -line["amount_cents"]
            share = ""
        else:
            kept = rule.within_days - days
            reversed_cents = -round_half_up(Fraction(line["amount_cents"] * kept,
                                                     rule.within_days))
            share = f"{count(kept)}/{count(rule.within_days)} of "
        if reversed_cents == 0:
            continue
        explanation = (f"clawback: deal cancelled on {cancelled.isoformat()}, {count(days)} "
                       f"days after it closed on {closed.isoformat()} (within "
                       f"{count(rule.within_days)}): reverses {share}the "
                       f"{money(line['amount_cents'])} paid in {line['period']} = "
                       f"{money(reversed_cents)}")
        out.append({
            "payee_id": line["payee_id"], "period": str(event["period"]),
            "window": str(event["period"]), "plan": line["plan"],
            "component": line["component"], "kind": line["kind"], "line_type": "clawback",
            "deal_id": line["deal_id"], "credit_id": line["credit_id"],
            "measure": line["measure"], "basis": line["amount_cents"], "cumulative": NA,
            "quota": NA, "tier": NA, "rate": NA, "amount_cents": reversed_cents,
            "rounding_carry_cents": 0, "capped_cents": 0, "explanation": explanation,
        })
    return out
