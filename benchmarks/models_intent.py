"""Benchmark of purchase intent on simulated data: model AUC against the truth's AUC.

The decision API scores intent when it is called at an in-session engagement decision, on the
buyer and session features of the online store (``b_*``, ``s_*``). That is the headline row:

- ``features_decision``: the shared training set of ``marketlift.features`` with one row per
  in-session decision, features strictly before it (``train intent --data``'s default).

Two more rows use our own SQL rows (``marketlift.models.intent_data``):

- ``events_decision``: snapshot at the engagement decision;
- ``events_cart``: snapshot just before the add-to-cart (sees the session's views).

Each model is trained on the older 75 % of rows and scored on the newest 25 %. On exactly the
same held-out rows and labels (purchase later in the session) we score the simulator's true
purchase probabilities under three information sets (:func:`truths`):

- ``hindsight_truth_auc``: ``sim_truth_sessions.p_purchase``. It knows the buyer's hidden
  intent (a N(0, 0.7) logit term never shown in any event) and two draws made *after* the
  decision: the listing the buyer settles on and the action the API then takes;
- ``latent_truth_auc``: at the decision, knowing the hidden traits, averaged over those later
  draws (listing by affinity and popularity, action by the logging policy);
- ``truth_auc`` (decision snapshots): as ``latent`` but with the hidden intent replaced by its
  posterior given everything the lake shows of the buyer's past (add-to-carts, checkouts,
  purchases, cart recoveries, each with its true probability). That is the best possible
  predictor from observable data (still generous: it knows the buyer's price sensitivity and
  category affinities), and the target: model within 0.02 of it. At the cart snapshot the
  listing and the action are revealed, and ``truth_auc`` is ``p_purchase`` as before.

Prints ONE JSON line.

    .venv/bin/python benchmarks/models_intent.py [--buyers 20000] [--days 14] [--seed 2]
        [--rounds 300] [--data DIR]

``--data`` reuses a lake simulated with the same ``--buyers``, ``--days`` and ``--seed`` (the
benchmark rebuilds the simulator's world from them).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SESSION_ACTIONS = ("none", "free_shipping_banner_onsite", "similar_items_onsite",
                    "review_highlight_onsite", "discount_coupon_in_app")  # fmt: skip


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-x))


def _solve_shift(target: Any, atc: Any, co: Any, q: Any) -> Any:
    """The action's logit shift s with sigmoid(atc + s) * sigmoid(co + s / 2) * q == target."""
    lo, hi = np.full(len(target), -30.0), np.full(len(target), 30.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        above = _sigmoid(atc + mid) * _sigmoid(co + mid / 2) * q > target
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return (lo + hi) / 2


def _log_sigmoid(x: Any) -> Any:
    return -np.logaddexp(0.0, -x)


def _logit(p: Any) -> Any:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _history_loglik(data: str, rows: Any, grid: Any, intent: Any) -> Any:
    """Per held-out row and intent grid point: log-likelihood of the buyer's observed past.

    What the lake shows of every earlier decision of the buyer: in a session, whether they
    added to cart, started checkout and bought; after an idle cart, whether they came back to
    buy. Each outcome's true probability is known to the simulator for the buyer's true
    intent; moving the intent to a grid point shifts its logit by the intent's coefficient
    (1 for add-to-cart, 0.4 checkout, 0.3 purchase, 0.5 recovery).
    """
    from marketlift.lake import connect
    from marketlift.sim import read_truth
    from marketlift.sim.funnel import _PUR0

    con = connect(data)
    times = con.sql(
        "SELECT decision_id, epoch_us(ts) AS t FROM events WHERE type = 'decision'"
    ).to_arrow_table()
    checkout = set(con.sql(
        "SELECT DISTINCT session_id FROM events WHERE type = 'checkout_start'"
    ).to_arrow_table()["session_id"].to_pylist())  # fmt: skip
    con.close()
    when = dict(zip(times["decision_id"].to_pylist(), times["t"].to_pylist(), strict=True))
    dec = read_truth(data, "sim_truth_decisions").to_pydict()
    ses = read_truth(data, "sim_truth_sessions")
    ses_at = {sid: k for k, sid in enumerate(ses["session_id"].to_pylist())}
    p_atc, p_co = ses["p_add_to_cart"].to_numpy(), ses["p_checkout"].to_numpy()
    atc = ses["added_to_cart"].to_numpy(zero_copy_only=False)
    bought = ses["purchased"].to_numpy(zero_copy_only=False)
    by_buyer: dict[str, list[tuple[int, Any]]] = {}
    pur = _log_sigmoid(_PUR0 + 0.3 * grid), _log_sigmoid(-(_PUR0 + 0.3 * grid))
    for k, did in enumerate(dec["decision_id"]):
        moment, buyer = dec["moment"][k], dec["buyer_key"][k]
        t = when.get(did)
        if t is None:
            continue
        d = grid - intent[int(buyer[1:])]
        if moment in ("browsing", "returning_visit"):
            r = ses_at[dec["session_id"][k]]
            la = _logit(p_atc[r]) + d
            ll = _log_sigmoid(la) if atc[r] else _log_sigmoid(-la)
            if atc[r]:
                lc = _logit(p_co[r]) + 0.4 * d
                co = bool(bought[r]) or dec["session_id"][k] in checkout
                ll = ll + (_log_sigmoid(lc) if co else _log_sigmoid(-lc))
                if co:
                    ll = ll + (pur[0] if bought[r] else pur[1])
            ready = t + 3_600_000_000  # the session's outcome is known within the hour
        else:
            p_taken = dec[f"p_{dec['action'][k]}"][k]
            lr = _logit(p_taken) + 0.5 * d
            ll = _log_sigmoid(lr) if dec["converted"][k] else _log_sigmoid(-lr)
            ready = t + 4 * 3_600_000_000  # a recovery purchase comes within 4 hours
        by_buyer.setdefault(buyer, []).append((ready, ll))
    out = np.zeros((len(rows["decision_id"]), len(grid)))
    for i, (did, buyer) in enumerate(zip(rows["decision_id"], rows["buyer_key"], strict=True)):
        now = when[did]
        for ready, ll in by_buyer.get(buyer, ()):
            if ready < now:
                out[i] += ll
    return out


def _logging_policy(dec: pa.Table) -> tuple[Any, Any, Any]:
    """Per decision: P(purchase) under each in-session action, availability, the policy.

    The logging policy is epsilon-greedy around never-nudge, uniform over available actions;
    checked against the propensities it logged.
    """
    p = np.stack([dec[f"p_{a}"].to_numpy(zero_copy_only=False).astype(float)
                  for a in _SESSION_ACTIONS], 1)  # fmt: skip
    avail = np.isfinite(p)
    eps = np.array([float(re.match(r"epsilon_([0-9.]+)_never", v).group(1))  # type: ignore[union-attr]
                    for v in dec["variant"].to_pylist()])  # fmt: skip
    pi = avail * (eps / avail.sum(1))[:, None]
    pi[:, 0] += 1 - eps
    taken = np.array([_SESSION_ACTIONS.index(a) if a in _SESSION_ACTIONS else 0
                      for a in dec["action"].to_pylist()])  # fmt: skip
    logged = dec["propensity"].to_numpy()
    err = float(np.max(np.abs(pi[np.arange(len(p)), taken] - logged), initial=0.0))
    if err > 1e-9:
        raise RuntimeError(f"logging policy mismatch ({err:g})")
    return p, avail, pi


def _listing_draws(world: Any, b: Any, j: Any, returning: Any, k: int = 256) -> Any:
    """``k`` listings per decision: a returning buyer's open cart (known); a browsing buyer's
    listing is drawn later (category by affinity, then by popularity), so ``k`` draws."""
    lst = world.listings
    prev = np.r_[0.0, lst.popularity_cdf[:-1]]
    prev[lst.category_start[:-1]] = np.arange(len(lst.category_start) - 1)
    weight = lst.popularity_cdf - prev
    rng = np.random.default_rng(0)
    draws = np.empty((len(b), k), dtype=np.int64)
    for i in range(len(b)):
        if returning[i]:
            draws[i] = j[i]
        else:
            w = world.buyers.affinity[b[i]][lst.category] * weight
            draws[i] = rng.choice(len(w), k, p=w / w.sum())
    return draws


def truths(data: str, config: Any, decision_ids: list[str]) -> dict[str, Any]:
    """True purchase probabilities of in-session decisions, with three information sets.

    - ``hindsight``: the simulator's ``p_purchase`` (knows the listing the buyer settles on and
      the action taken, both drawn after the decision);
    - ``latent``: at the decision, knowing the buyer's hidden traits (intent, price
      sensitivity, affinities), averaged over the later draws (listing, logging action);
    - ``observable``: as ``latent`` but with the intent unknown: its posterior given the
      buyer's observed past outcomes (the prior N(0, 0.7) of the simulator). The best a
      model of the lake's history can do (an upper bound: it still knows the price
      sensitivity and affinities).

    Rebuilds the simulator's world from ``config`` and checks the reconstruction against the
    stored truth (add-to-cart probabilities without a nudge, the logging propensities).
    """
    from marketlift.sim import read_truth
    from marketlift.sim.funnel import _ATC0, _CO0, _LOG_PRICE_CENTER, _PUR0
    from marketlift.sim.world import make_world

    world = make_world(config)
    buyers, lst = world.buyers, world.listings
    dec, ses = read_truth(data, "sim_truth_decisions"), read_truth(data, "sim_truth_sessions")
    dec = dec.take(pc.index_in(pa.array(decision_ids), dec["decision_id"]))
    ses = ses.take(pc.index_in(dec["session_id"], ses["session_id"]))
    n = len(decision_ids)
    b = np.array([int(k[1:]) for k in ses["buyer_key"].to_pylist()])
    j = np.array([int(k[1:]) for k in ses["listing_id"].to_pylist()])
    returning = (ses["moment"].to_numpy(zero_copy_only=False) == "returning_visit").astype(float)
    intent, ps = buyers.intent[b], buyers.price_sensitivity[b]
    price, ship = lst.price_cents.astype(float), lst.shipping_cents.astype(float)
    ship_frac = ship / (price + ship)
    price_rel = np.log(price) - _LOG_PRICE_CENTER[lst.category]
    rating_term = 0.3 * (lst.rating - 4.5)
    atc_actual = _ATC0 + intent + 1.6 * returning - 0.8 * ps * price_rel[j] + rating_term[j]
    co_actual = _CO0 + 0.4 * intent - 2.0 * ps * ship_frac[j]
    q = _sigmoid(_PUR0 + 0.3 * intent)
    none = ses["action"].to_numpy(zero_copy_only=False) == "none"
    p_atc = ses["p_add_to_cart"].to_numpy()[none]
    check = float(np.max(np.abs(_sigmoid(atc_actual[none]) - p_atc), initial=0.0))
    if check > 1e-9:
        raise RuntimeError(f"world reconstruction does not match the truth ({check:g})")
    p, avail, pi = _logging_policy(dec)
    shifts = np.zeros_like(p)
    for a in range(1, p.shape[1]):
        ok = avail[:, a]
        shifts[ok, a] = _solve_shift(p[ok, a], atc_actual[ok], co_actual[ok], q[ok])
    # the buyer's listing: a returning buyer's open cart (known); a browsing buyer's is drawn
    # later (category by affinity, then by popularity): 256 draws per row estimate the mean
    draws = _listing_draws(world, b, j, returning)
    # logits of the drawn listings at intent 0, plus the intent on a grid
    atc0 = (_ATC0 + 1.6 * returning[:, None] - 0.8 * ps[:, None] * price_rel[draws]
            + rating_term[draws])  # fmt: skip
    co0 = _CO0 - 2.0 * ps[:, None] * ship_frac[draws]

    def expected(g: Any, sl: slice) -> Any:  # E over listing and action at intents g
        total = np.zeros(g.shape)
        for a in range(p.shape[1]):
            s = shifts[sl, a][:, None, None]
            atc = atc0[sl, None, :] + g[:, :, None] + s
            co = co0[sl, None, :] + 0.4 * g[:, :, None] + s / 2
            pa_ = (_sigmoid(atc) * _sigmoid(co)).mean(2) * _sigmoid(_PUR0 + 0.3 * g)
            total += pi[sl, a][:, None] * pa_
        return total

    grid = np.linspace(-2.8, 2.8, 29)
    loglik = _history_loglik(
        data, {"decision_id": decision_ids, "buyer_key": ses["buyer_key"].to_pylist()},
        grid, buyers.intent,
    )  # fmt: skip
    log_post = loglik - 0.5 * (grid / 0.7) ** 2
    post = np.exp(log_post - log_post.max(1, keepdims=True))
    post /= post.sum(1, keepdims=True)
    latent, observable = np.zeros(n), np.zeros(n)
    for start in range(0, n, 256):
        sl = slice(start, min(start + 256, n))
        latent[sl] = expected(intent[sl, None], sl)[:, 0]
        g = np.broadcast_to(grid, (sl.stop - sl.start, len(grid)))
        observable[sl] = (post[sl] * expected(g, sl)).sum(1)
    return {"hindsight": ses["p_purchase"].to_numpy(), "latent": latent,
            "observable": observable}  # fmt: skip


def _decision_ids(data: str, held: pa.Table, name: str) -> list[str]:
    """The decision of each held-out row (our rows at the cart snapshot keep theirs too)."""
    if "decision_id" in held.column_names:
        return held["decision_id"].to_pylist()  # type: ignore[no-any-return]
    raise ValueError(f"{name}: rows without decision_id")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--data", default=None, help="Reuse a simulated lake.")
    args = parser.parse_args()

    from marketlift.models.metrics import classification_metrics
    from marketlift.models.training import train_intent_lake
    from marketlift.sim import SimConfig, simulate

    config = SimConfig(n_buyers=args.buyers, n_days=args.days, seed=args.seed)
    data = args.data
    t0 = time.perf_counter()
    if data is None:
        data = tempfile.mkdtemp(prefix="ml-intent-")
        simulate(config, data)
    sim_s = time.perf_counter() - t0
    out: dict[str, object] = {"benchmark": "models_intent", "buyers": args.buyers,
                              "days": args.days, "seed": args.seed, "rounds": args.rounds,
                              "simulate_s": round(sim_s, 1)}  # fmt: skip
    for name, rows_kind, at in (
        ("features_decision", "features", "decision"),
        ("events_decision", "events", "decision"),
        ("events_cart", "events", "cart"),
    ):
        t = time.perf_counter()
        result, rows = train_intent_lake(
            data, rows=rows_kind, at=at, n_estimators=args.rounds, random_state=args.seed
        )
        train_s = time.perf_counter() - t
        held = rows.take(result.holdout_rows)
        label = "purchased" if "purchased" in held.column_names else "label"
        y = held[label].to_numpy(zero_copy_only=False).astype(int)
        truth = truths(data, config, _decision_ids(data, held, name))
        model = classification_metrics(y, result.holdout_proba)
        # at the cart snapshot the listing and the action are revealed (views, engagement):
        # the session's p_purchase is the truth there, as before
        best = "hindsight" if at == "cart" else "observable"
        fair = classification_metrics(y, truth[best])
        out[name] = {
            "model_auc": round(model.roc_auc, 4),
            "truth_auc": round(fair.roc_auc, 4),
            "truth": best,
            "gap": round(fair.roc_auc - model.roc_auc, 4),
            "within_0_02": bool(model.roc_auc >= fair.roc_auc - 0.02),
            "latent_truth_auc": round(classification_metrics(y, truth["latent"]).roc_auc, 4),
            "hindsight_truth_auc": round(
                classification_metrics(y, truth["hindsight"]).roc_auc, 4),
            "model_pr_auc": round(model.pr_auc, 4),
            "truth_pr_auc": round(fair.pr_auc, 4),
            "model_log_loss": round(model.log_loss, 5),
            "truth_log_loss": round(fair.log_loss, 5),
            "model_ece": round(model.ece, 5),
            "holdout": model.n,
            "positives": model.positives,
            "features": result.sizes["features"],
            "rounds_used": result.classifier.n_iter_,
            "train_s": round(train_s, 1),
        }  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
