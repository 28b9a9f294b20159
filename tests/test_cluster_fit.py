"""The REML fit of the cluster model: its analytic score and information, and a fit
that does not depend on the order of the rows.

Independent sources used here:
- central differences of the log-likelihood (:meth:`NestedModel.loglik`, itself proven
  equal to the dense formula ``reml_loglik_reference`` in test_cluster.py), computed
  in the test: ``(f(x + h) − f(x − h)) / 2h`` for the score, the second difference
  ``(f(x + h) − 2 f(x) + f(x − h)) / h²`` for the information's diagonal;
- the same rows in another order: a fit that stops where the optimiser's path happens
  to end (numerical gradients, a relative tolerance on a log-likelihood of ~1e3) moves
  by ~1e-5 when the rows are shuffled; the maximum itself does not.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import sizecheck as sc
from sizecheck.cluster import Components, NestedModel, _prepare, _usable

TABLE = sc.load_table("paris-point")

#: the frames of test_cluster.py's likelihood test: unbalanced, with and without a
#: random slope, visits of one pair, single shoes, one size
FRAMES = [
    (1, True, {"drop_share": 0.2}),
    (2, False, {"visits": [1, 2, 3, 4, 5, 2, 3], "n_producers": 7}),
    (3, True, {"shoes_per_pair": 1}),
    (4, False, {"sizes": [41.0], "pairs_per_visit": 1}),
    (5, True, {"drop_share": 0.4, "visits": 2, "pairs_per_visit": 5}),
]


def simulated(seed: int, **kwargs: object) -> pd.DataFrame:
    settings: dict[str, object] = {"dimensions": ("last_length",), "n_producers": 6}
    settings.update(kwargs)
    sim = sc.simulate_cluster(rng=np.random.default_rng(seed), **settings)  # type: ignore[arg-type]
    return sc.compare_to_table(sim.measurements, TABLE).deviations


def model_of(dev: pd.DataFrame, slope: bool | str = "auto") -> NestedModel:
    rows = _usable(dev, "test")
    return _prepare(
        rows,
        "last_length",
        center_size=None,
        random_slope=slope,
        band="in_spec",  # type: ignore[arg-type]
    ).model


def central_differences(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([(f(x + e) - f(x - e)) / (2.0 * h) for e in np.eye(len(x)) * h])


def points(model: NestedModel, rng: np.random.Generator) -> list[np.ndarray]:
    """Random parameter vectors, and two near the boundary: every SD ratio at 1e-4
    but one, and the slope correlation at ±0.99."""
    names = model.parameter_names()
    out = [rng.normal(0.0, 0.7, len(names)) for _ in range(3)]
    near = rng.normal(0.0, 0.3, len(names))
    for i, name in enumerate(names[1:-1], start=1):
        if name.startswith("log"):
            near[i] = near[-1] + math.log(1e-4)
        else:
            near[i] = math.atanh(0.99)
    out.append(near)
    low_between = rng.normal(0.0, 0.3, len(names))
    low_between[0] = low_between[-1] + math.log(1e-3)
    out.append(low_between)
    return out


# --------------------------------------------------------------------------- the score


@pytest.mark.parametrize(("seed", "slope", "kwargs"), FRAMES)
def test_score_is_the_derivative_of_the_log_likelihood(
    seed: int, slope: bool, kwargs: dict[str, object]
) -> None:
    model = model_of(simulated(seed, **kwargs), slope)
    for theta in points(model, np.random.default_rng(seed)):
        expected = central_differences(model.loglik, theta)
        # central differences err by O(h²) ~ 1e-10 and rounding / h ~ 1e-9 here
        np.testing.assert_allclose(model.score(theta), expected, rtol=1e-6, atol=1e-6)


def dense_score(dim, comp: Components, random_slope: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The REML score from its formula with dense N × N matrices (Harville 1977):
    ``∂ℓ_R/∂θ = −½ tr(P ∂V/∂θ) + ½ (Py)'(∂V/∂θ)(Py)``,
    ``P = V^{-1} − V^{-1}X(X'V^{-1}X)^{-1}X'V^{-1}``."""
    y, s = dim.y, dim.s
    x = np.column_stack([np.ones(len(y)), s]) if np.any(s != s[0]) else np.ones((len(y), 1))
    same_producer = dim.producer[:, None] == dim.producer[None, :]
    visit = (dim.visit[:, None] == dim.visit[None, :]).astype(float)
    pair = (dim.pair[:, None] == dim.pair[None, :]).astype(float)
    z = np.column_stack([np.ones(len(y)), s])
    b, sl, rho = comp.between_sd, comp.slope_sd, comp.slope_corr
    g = {  # dG / dθ of the producer parameters, as NestedModel._g_derivatives has them
        "log_between_sd": np.array([[2 * b * b, rho * b * sl], [rho * b * sl, 0.0]]),
        "log_slope_sd": np.array([[0.0, rho * b * sl], [rho * b * sl, 2 * sl * sl]]),
        "atanh_slope_corr": (1 - rho * rho) * b * sl * np.array([[0.0, 1.0], [1.0, 0.0]]),
    }
    if not random_slope:
        z, g = z[:, :1], {"log_between_sd": np.array([[2 * b * b]])}
    dv = {name: same_producer * (z @ m @ z.T) for name, m in g.items()}
    dv |= {"log_visit_sd": 2 * comp.visit_sd**2 * visit, "log_pair_sd": 2 * comp.pair_sd**2 * pair}
    dv["log_shoe_sd"] = 2 * comp.shoe_sd**2 * np.eye(len(y))
    v = comp.shoe_sd**2 * np.eye(len(y)) + comp.visit_sd**2 * visit + comp.pair_sd**2 * pair
    v += same_producer * (z @ (comp.g_matrix() if random_slope else [[b * b]]) @ z.T)
    vinv = np.linalg.inv(v)
    p = vinv - vinv @ x @ np.linalg.solve(x.T @ vinv @ x, x.T @ vinv)
    py = p @ y
    return {n: -0.5 * np.sum(p * d) + 0.5 * py @ d @ py for n, d in dv.items()}


@pytest.mark.parametrize(("seed", "slope", "kwargs"), FRAMES)
def test_score_is_the_dense_formula_to_1e_9(
    seed: int, slope: bool, kwargs: dict[str, object]
) -> None:
    # the level-by-level score (W taken down to each visit once) against the textbook
    # formula with dense matrices, to 1e-9 of the largest entry
    dev = simulated(seed, **kwargs)
    dim = _prepare(_usable(dev, "test"), "last_length", center_size=None, random_slope=slope,
                   band="in_spec")  # type: ignore[arg-type]  # fmt: skip
    model = dim.model
    for theta in points(model, np.random.default_rng(seed)):
        reference = dense_score(dim, model.components(theta), model.random_slope)
        expected = np.array([reference[n] for n in model.parameter_names()])
        got = model.score(theta)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9 * np.max(np.abs(expected)))


@pytest.mark.parametrize(("seed", "slope", "kwargs"), FRAMES[:3])
def test_profiled_score_is_the_derivative_of_the_profile(
    seed: int, slope: bool, kwargs: dict[str, object]
) -> None:
    model = model_of(simulated(seed, **kwargs), slope)
    rng = np.random.default_rng(seed + 10)
    for _ in range(3):
        ratios = rng.normal(0.0, 0.7, len(model.parameter_names()) - 1)
        shoe_sd = model.profiled_loglik(ratios)[1]
        expected = central_differences(lambda r: model.profiled_loglik(r)[0], ratios)
        got = model.profiled_score(ratios, shoe_sd)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
        # and at the profile's shoe SD the full score along a common scaling of every
        # SD (the sum of the log-SD scores) is zero
        full = model.score(model._full(ratios, math.log(shoe_sd)))
        log_sds = [not n.startswith("atanh") for n in model.parameter_names()]
        assert abs(full[log_sds].sum()) < 1e-9 * model.n_obs


def test_information_is_the_second_difference_of_the_log_likelihood() -> None:
    dev = simulated(11, n_producers=12, visits=3, pairs_per_visit=3, drop_share=0.1)
    fit = model_of(dev).fit()
    h = 1e-4
    info = np.linalg.inv(fit.covariance())
    for i in range(len(fit.theta)):
        e = np.eye(len(fit.theta))[i] * h
        second = (
            fit.model.loglik(fit.theta + e) - 2 * fit.loglik + fit.model.loglik(fit.theta - e)
        ) / h**2
        assert info[i, i] == pytest.approx(-second, rel=1e-4)


# ------------------------------------------------------------------- the fit itself


def test_fit_is_a_maximum_to_the_precision_of_the_score() -> None:
    fit = model_of(simulated(12, n_producers=15, drop_share=0.2)).fit()
    score = fit.model.score(fit.theta)
    free = fit.free()
    # each free parameter's score relative to its information: the distance in the
    # log-SD from the maximum, about 1e-12 (L-BFGS-B alone stops about 1e-7 away)
    info = np.linalg.inv(fit.covariance()[np.ix_(free, free)])
    assert np.max(np.abs(np.linalg.solve(info, score[free]))) < 1e-9


def _shuffled(dev: pd.DataFrame, seed: int) -> pd.DataFrame:
    return dev.sample(frac=1.0, random_state=seed)


def _regrouped(dev: pd.DataFrame, seed: int) -> pd.DataFrame:
    # split into three parts (as files or Dask partitions come) and join them the other
    # way round
    cuts = np.sort(np.random.default_rng(seed).choice(len(dev), 2, replace=False))
    return pd.concat([dev.iloc[cuts[1] :], dev.iloc[cuts[0] : cuts[1]], dev.iloc[: cuts[0]]])


@pytest.fixture(scope="module")
def example_deviations() -> pd.DataFrame:
    return sc.analyse([sc.example_path()], synthetic=True, cluster=False).deviations


def test_example_fit_is_the_best_statsmodels_finds(example_deviations: pd.DataFrame) -> None:
    # The example's ball girth: main's fit (numerical gradients) stopped at a REML
    # log-likelihood of -1106.77 with the visit SD wandering to 0.0001 mm; statsmodels
    # MixedLM's best start (Powell, then L-BFGS) reaches -1105.93 with the producer SDs
    # at zero. The fit must reach that maximum and agree with it.
    smf = pytest.importorskip("statsmodels.formula.api")
    cs = sc.cluster_summary(example_deviations)
    row = cs.summary.set_index("dimension").loc["last_ball_girth"]
    dev = example_deviations.loc[example_deviations["dimension"] == "last_ball_girth"]
    data = pd.DataFrame(
        {
            "y": dev["deviation_mm"].to_numpy(float),
            "s": dev["size"].to_numpy(float) - row["center_size"],
            "producer": dev["producer"].astype(str).to_numpy(),
            "visit": dev["date"].astype(str).to_numpy(),
            "pair": (dev["date"].astype(str) + dev["pair"].astype(str)).to_numpy(),
        }
    )
    model = smf.mixedlm(
        "y ~ s", data, groups="producer", re_formula="~s",
        vc_formula={"pair": "0 + C(pair)", "visit": "0 + C(visit)"},
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.fit(reml=True, method=["powell", "lbfgs"])
    assert cs.fits["last_ball_girth"].loglik >= ref.llf - 1e-6
    pair, visit = np.sqrt(ref.vcomp)  # vc names sorted: pair, visit
    assert row["visit_sd_mm"] == pytest.approx(visit, rel=1e-3)
    assert row["pair_sd_mm"] == pytest.approx(pair, rel=1e-3)
    assert row["shoe_sd_mm"] == pytest.approx(math.sqrt(ref.scale), rel=1e-4)
    assert math.sqrt(ref.cov_re.iloc[0, 0]) < 1e-3
    # an SD estimated at zero reads as 0, not as a tiny number that looks measured
    assert row["between_sd_mm"] == 0.0 and row["slope_sd_mm_per_size"] == 0.0
    assert row["icc"] == 0.0
    assert math.isnan(row["between_ci_low_mm"]) and math.isnan(row["slope_corr"])


def _both(a: sc.ClusterSummary, b: sc.ClusterSummary) -> None:
    # 1e-9 relative, nothing absolute: the bound for regrouped sums (issue 14)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=False, rtol=1e-9, atol=0.0)
    key = ["dimension", "producer"]
    pd.testing.assert_frame_equal(
        a.offsets.sort_values(key, ignore_index=True),
        b.offsets.sort_values(key, ignore_index=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-12,  # an offset of ~0 mm relative to itself is noise
    )


@pytest.mark.parametrize("reorder", [_shuffled, _regrouped])
def test_example_summary_does_not_depend_on_the_order_of_the_rows(
    example_deviations: pd.DataFrame, reorder
) -> None:  # type: ignore[no-untyped-def]
    first = sc.cluster_summary(example_deviations)
    _both(first, sc.cluster_summary(reorder(example_deviations, 1)))


def test_summary_with_a_component_at_zero_does_not_depend_on_the_order() -> None:
    # no pair effect planted: the pair SD lands on the boundary; 40 producers with
    # shoes dropped at random (unbalanced)
    dev = simulated(13, n_producers=40, pair_sd_mm=0.0, drop_share=0.2)
    first = sc.cluster_summary(dev)
    _both(first, sc.cluster_summary(_shuffled(dev, 2)))
    assert any(first.fits["last_length"].on_boundary())  # the case this test is for


def test_a_fit_without_residual_variance_says_so_quietly() -> None:
    # three producers, one shoe each, on a straight line of size: after the offset and
    # the grading error nothing is left to estimate any variance from
    dev = simulated(14, n_producers=3).groupby("producer", observed=True).head(1)
    dev = dev.assign(size=[40.0, 41.0, 42.0], deviation_mm=[-0.3, 0.0, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = sc.cluster_summary(dev).summary.iloc[0]
    assert row["method"].endswith("NOT CONVERGED")
    assert math.isnan(row["between_sd_mm"]) and math.isnan(row["icc"])


def test_a_slope_correlation_at_its_bound_is_held_and_the_fit_converges() -> None:
    # 5 producers, 3 visits of 2 pairs: the grading errors' correlation with the offsets
    # ends at its bound (-0.995); it is held there, the rest is a maximum
    sim = sc.simulate_cluster(
        rng=np.random.default_rng(528), dimensions=("last_length", "insole_length"), n_producers=5,
        visits=3, pairs_per_visit=2, pair_sd_mm=0.3, visit_sd_mm=0.0,
    )  # fmt: skip
    fit = sc.cluster_summary(sc.compare_to_table(sim.measurements, TABLE).deviations).fits[
        "last_length"
    ]
    corr = fit.model.parameter_names().index("atanh_slope_corr")
    assert abs(fit.theta[corr]) == pytest.approx(3.0)
    assert corr not in fit.free() and fit.converged
    # read at the edge it reached, -1, not as the fit's bound -0.995 that looks measured
    summary = sc.cluster_summary(sc.compare_to_table(sim.measurements, TABLE).deviations).summary
    row = summary.set_index("dimension").loc["last_length"]
    assert row["slope_corr"] == math.copysign(1.0, math.tanh(fit.theta[corr]))


# ------------------------------------------------- the start values change nothing


def _the_long_way(self: NestedModel) -> sc.ClusterFit:
    # the fit before start values from the moments: from equal SDs, L-BFGS-B to the
    # last digit (ftol=0), then the Newton steps
    return self.climb(np.zeros(len(self.parameter_names()) - 1), ftol=0.0)


@pytest.mark.parametrize(
    ("seed", "kwargs"),
    [
        *[(seed, kwargs) for seed, _, kwargs in FRAMES],
        (13, {"n_producers": 40, "pair_sd_mm": 0.0, "drop_share": 0.2}),  # pair SD at zero
        (15, {"n_producers": 30, "visit_sd_mm": 0.0, "visits": 3}),  # visit SD at zero
        (16, {"n_producers": 12, "dimensions": ("last_length", "insole_length")}),
    ],
)
def test_the_fit_from_the_moments_is_the_fit_the_long_way(
    seed: int, kwargs: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The moments (NestedModel.moment_start) only shorten the way to the maximum:
    # the summary and offsets equal the long way's to 1e-9 relative (issue 14's bound)
    dev = simulated(seed, **kwargs)
    quick = sc.cluster_summary(dev)
    monkeypatch.setattr(NestedModel, "fit", _the_long_way)
    _both(quick, sc.cluster_summary(dev))


def test_the_example_fit_from_the_moments_is_the_fit_the_long_way(
    example_deviations: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = sc.cluster_summary(example_deviations)
    monkeypatch.setattr(NestedModel, "fit", _the_long_way)
    _both(quick, sc.cluster_summary(example_deviations))


def test_moment_start_is_the_anova_estimate_on_balanced_data() -> None:
    # one size, balanced: the moments are the balanced nested ANOVA estimates
    # (test_cluster._anova_components, Searle, Casella & McCulloch 1992, ch. 4)
    from test_cluster import _anova_components

    a, b, c, d = 10, 3, 3, 2
    dev = simulated(9, n_producers=a, visits=b, pairs_per_visit=c, sizes=[41.0],
                    resolution_mm=0.0, visit_sd_mm=1.0)  # fmt: skip
    dev = dev.sort_values(["producer", "date", "pair", "foot"])
    expected = _anova_components(dev["deviation_mm"].to_numpy(float), a, b, c, d)
    model = model_of(dev)
    start = dict(zip(model.parameter_names(), model.moment_start(), strict=False))
    for level in ("between", "visit", "pair"):
        ratio2 = expected[level] / expected["shoe"]
        assert math.exp(2.0 * start[f"log_{level}_sd"]) == pytest.approx(ratio2, rel=1e-9)
