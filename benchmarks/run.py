"""Benchmarks of the course: simulator throughput and chapter wall times, written to a results file.

    python benchmarks/run.py --out benchmarks/results [--refresh cluster_training ...] \
        [--chapters E book/F_....ipynb ...] [--profiles smoke default] [--frameworks torch keras]

Writes ``results.json`` and a readable ``results.md`` in ``--out``. Timings live here, never in the
tests. Each chapter runs in a fresh kernel (nbclient), as CI and the book run it; its claims cell
prints the numbers behind the chapter's claims, which are copied into the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from a3net import chapters as registry  # noqa: E402
from a3net import n_threads  # noqa: E402
from a3net.data import rings  # noqa: E402
from a3net.data.rings_reference import render_hits_reference  # noqa: E402


def _best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_ring_generation(n_fast: int = 20000, n_reference: int = 40) -> dict:
    """Images per second: the vectorised simulator (photon counts, the default, and the spot
    renderer) and the spot renderer against its dot-by-dot Python reference, same hits."""
    out = {}
    spots = rings.RingConfig(detector="spots")
    for max_rings in (1, 3):
        labels = rings.sample_ring_parameters(n_fast, max_rings=max_rings, seed=1)
        photons = _best_of(lambda labels=labels: rings.render_rings(labels, seed=1), repeats=2)
        fast = _best_of(
            lambda labels=labels: rings.render_rings(labels, seed=1, config=spots), repeats=2
        )
        few = labels.iloc[:n_reference]
        hits = rings.sample_hits(few, seed=1, config=spots)
        reference = _best_of(lambda hits=hits: render_hits_reference(*hits), repeats=1)
        # the reference renders pre-drawn hits; time the same step of the fast path for a fair ratio
        fast_render = _best_of(lambda hits=hits: rings.render_hits(*hits), repeats=5)
        out[f"max_rings={max_rings}"] = {
            "photon images/s (sample + count)": n_fast / photons,
            "vectorised images/s (sample + render)": n_fast / fast,
            "reference images/s (render only, dot by dot)": n_reference / reference,
            "vectorised images/s (render only, same hits)": n_reference / fast_render,
            "speed-up, render only": reference / fast_render,
            "speed-up, full vectorised vs reference render": (n_fast / fast)
            / (n_reference / reference),
        }
    return out


def bench_photoz(n_galaxies: int = 20000, n_fit: int = 2000, n_loop: int = 30) -> dict:
    """Chapter C: simulated galaxies per second, and template-fit galaxies per second,
    vectorised (all galaxies x redshifts at once) against the plain nnls loop; the oracle fit
    (each galaxy's own spectrum at every redshift: models and fit), zero-point offsets, the
    Inoue IGM and the quantile regression forest."""
    from a3net.baselines.photoz import TemplateFitter, eazy_z_grid
    from a3net.baselines.photoz_fair import own_template_fit, zeropoint_offsets
    from a3net.baselines.photoz_pdf import QuantileForest
    from a3net.data import catalogues, igm, photometry
    from a3net.data.fetch import DataUnavailableError

    simulate = _best_of(lambda: photometry.simulate_catalogue(n_galaxies, seed=1), repeats=2)
    sim = photometry.simulate_catalogue(n_fit, seed=2)
    galaxies = (sim.catalogue["star_flag"] == 0).to_numpy()
    cat, truth = sim.catalogue[galaxies], sim.truth[galaxies]
    bands = photometry.BANDS
    flux = cat[[f"f_{b}" for b in bands]].to_numpy()
    err = cat[[f"e_{b}" for b in bands]].to_numpy()
    wave, flam, _ = photometry.sed_templates()
    fitter = TemplateFitter(wave, flam, photometry.photometry_filters())
    fit = _best_of(lambda: fitter.fit(flux, err), repeats=1)
    loop = _best_of(lambda: fitter.fit_loop(flux[:n_loop], err[:n_loop]), repeats=1)
    grid = eazy_z_grid(0.02, 4.5, 0.01)

    def oracle():
        model = photometry.galaxy_band_fluxes(truth, grid, bands)
        return own_template_fit(flux, err, model, grid)

    oracle_s = _best_of(oracle, repeats=1)
    z_true = truth["z_true"].to_numpy()
    offsets_s = _best_of(lambda: zeropoint_offsets(fitter, flux, err, z_true), repeats=1)
    wave_obs = np.linspace(900.0, 60000.0, 20000)
    z_igm = np.linspace(0.1, 6.0, 300)
    try:  # EAZY's coefficient files, fetched once
        igm.inoue_igm_transmission(wave_obs[:2], z_igm[:2])
        inoue_s = _best_of(lambda: igm.inoue_igm_transmission(wave_obs, z_igm), repeats=2)
    except DataUnavailableError:
        inoue_s = float("nan")
    X = catalogues.photometric_features(cat, list(bands), "colours").to_numpy()
    forest = QuantileForest(150, n_jobs=1, random_state=0)
    forest_fit = _best_of(lambda: forest.fit(X, z_true), repeats=1)
    forest_pdf = _best_of(lambda: forest.predict_pdf(X, grid), repeats=1)
    return {
        "simulated galaxies/s": n_galaxies / simulate,
        "template fit galaxies/s (vectorised)": n_fit / fit,
        "template fit galaxies/s (nnls loop)": n_loop / loop,
        "speed-up": (n_fit / fit) / (n_loop / loop),
        "redshift grid points": float(len(fitter.z_grid)),
        "oracle fit galaxies/s (own-spectrum models + fit, 445 z)": len(flux) / oracle_s,
        f"zero-point offsets s ({len(flux)} galaxies, 3 iterations)": offsets_s,
        "Inoue IGM s (300 z x 20,000 wavelengths)": inoue_s,
        f"quantile forest fit s (150 trees, {len(X)} galaxies)": forest_fit,
        "quantile forest p(z) galaxies/s (445 z)": len(X) / forest_pdf,
    }


def bench_hough(n_images: int = 400) -> dict:
    """Chapter F: Hough circle fits per second, batched (FFT votes) against scikit-image's
    image-by-image loop, and the share of images where both give the same circle."""
    from a3net.baselines.hough import _hough_ring_fit_loop, hough_ring_fit

    images, _ = rings.simulate_rings(n_images, seed=1)
    fast = _best_of(lambda: hough_ring_fit(images), repeats=3)
    loop = _best_of(lambda: _hough_ring_fit_loop(images), repeats=1)
    agree = (hough_ring_fit(images).to_numpy() == _hough_ring_fit_loop(images).to_numpy()).all(1)
    return {
        "Hough fits images/s (batched)": n_images / fast,
        "Hough fits images/s (scikit-image loop)": n_images / loop,
        "speed-up": loop / fast,
        "agreement share": float(agree.mean()),
    }


def bench_ring_bound(n_rings: int = 200, n_images: int = 8000) -> dict:
    """Chapter F: rings/s of the Cramer-Rao bound of a photon-count image (5x5 Fisher matrix),
    and the seconds of the tuned PCA + SVM search (3000 search images, 36 settings, 3 folds)
    with its refit on the training images of an 8000-image two-ring set."""
    from a3net.baselines.rings import tune_pca_svm
    from a3net.data.splits import stratified_split
    from a3net.evaluation.rings import ring_image_cramer_rao

    _, labels = rings.simulate_rings(n_rings, seed=1)
    columns = [labels[f"{p}_1"] for p in rings.RING_PARAMETERS]
    bound = _best_of(lambda: ring_image_cramer_rao(*columns), repeats=2)
    images, labels = rings.simulate_rings(n_images, max_rings=2, seed=2)
    y = labels["n_rings"].to_numpy() - 1
    train, _ = stratified_split(y, 0.3, seed=0)
    grid = dict(components=(10, 25, 50), C=(1.0, 10.0), gamma_factors=(1.0, 3.0, 10.0))
    search = _best_of(
        lambda: tune_pca_svm(images[train], y[train], **grid, max_images=3000), repeats=1
    )
    return {"bound rings/s": n_rings / bound, "PCA+SVM search and refit s": search}


def bench_clusters(n_clusters: int = 400, image_sizes=(48, 64, 128)) -> dict:
    """Chapters D/G: simulated cluster images per second at several image sizes, and vectorised
    rotations per second."""
    from a3net.data import clusters
    from a3net.data.rotations import rotate_images

    out = {}
    for size in image_sizes:
        config = clusters.ClusterConfig(image_size=size)
        wall = _best_of(
            lambda config=config: clusters.simulate_clusters(
                n_clusters, projections=5, config=config, seed=1
            ),
            repeats=2,
        )
        out[f"simulated images/s at {size} px"] = 5 * n_clusters / wall
    images, _ = clusters.simulate_clusters(400, projections=5, seed=1)
    angles = np.random.default_rng(0).uniform(0, 360, len(images))
    out["bilinear rotations images/s at 64 px"] = len(images) / _best_of(
        lambda: rotate_images(images, angles), repeats=3
    )
    out["mass floor clusters/s (posterior on 801 masses)"] = 20000 / _best_of(
        lambda: clusters.mass_floor(20000, config=clusters.ClusterConfig(image_size=48)),
        repeats=2,
    )
    out.update(_bench_cluster_baselines())
    return out


def _bench_cluster_baselines(n_clusters: int = 700, projections: int = 5) -> dict:
    """Chapter D's classical baselines at 48 px on ``n_clusters`` x ``projections`` training
    images: point-source detection, the CV-chosen core-excised luminosity, the profile
    features and the boosted trees' tuning and refit (10 settings, 3 folds)."""
    from a3net.baselines.cluster_features import (
        CoreExcisedLuminosity,
        ProfileFeatureRegressor,
        detect_point_sources,
        profile_features,
    )
    from a3net.data import clusters

    config = clusters.ClusterConfig(image_size=48)
    images, cat = clusters.simulate_clusters(
        n_clusters, projections=projections, config=config, seed=2
    )
    y, groups = cat.log_m500.to_numpy(), cat.cluster_id.to_numpy()
    return {
        "point-source detection images/s (48 px)": len(images)
        / _best_of(lambda: detect_point_sources(images, config.background_per_pixel), 2),
        "profile features images/s (48 px)": len(images)
        / _best_of(lambda: profile_features(images, config=config), 2),
        f"core-excised L, core by CV, fit s ({len(images)} images)": _best_of(
            lambda: CoreExcisedLuminosity(config=config, core="cv").fit(images, y, groups=groups),
            1,
        ),
        f"profile + boosted trees, tuning and refit s ({len(images)} images)": _best_of(
            lambda: ProfileFeatureRegressor(config=config).fit(images, y, groups=groups), 1
        ),
    }


def _training_rates(models: dict, x, y, *, size: dict, batch_size: int, epochs: int, unit: str):
    """Training samples per second of every model in both frameworks: ``models`` maps a label
    to (class name, constructor arguments), ``size`` holds the size arguments every model
    takes. Each model first trains one epoch untimed (graph tracing, thread pools); the rate is
    then (1 + epochs) epochs minus 1 epoch, best of two, so start-up costs cancel."""
    import a3net

    out = {}
    for framework in ("torch", "keras"):
        nn = a3net.framework(framework)
        for label, (name, kwargs) in models.items():

            def train(k, name=name, kwargs=kwargs, nn=nn):
                model = getattr(nn, name)(**size, **kwargs)
                nn.fit(model, x, y, epochs=k, batch_size=batch_size, progress=False)

            train(1)  # warm-up
            one, more = _best_of(lambda: train(1), 2), _best_of(lambda: train(1 + epochs), 2)
            out[f"{framework} {label} train {unit}/s"] = epochs * len(x) / (more - one)
    return out


def bench_cluster_training(n_images: int = 2048, image_size: int = 48, epochs: int = 2) -> dict:
    """Chapters D/G: training images per second of every cluster model in both frameworks
    (batch 32, the default profile's image size), timed by :func:`_training_rates`."""
    x = np.random.default_rng(0).random((n_images, 1, image_size, image_size), dtype=np.float32)
    y = np.random.default_rng(1).random((n_images, 1), dtype=np.float32)
    models = {
        "ClusterCNN (Ntampaka)": ("ClusterCNN", {}),
        "ClusterCNN (hack G)": ("ClusterCNN", {"channels": (32, 64, 64), "output": "softplus"}),
        "DeepClusterCNN 8-16-32": ("DeepClusterCNN", {"channels": (8, 16, 32)}),
        "DeepClusterCNN 32-64-128 (hack D)": ("DeepClusterCNN", {}),
        "EquivariantClusterCNN": ("EquivariantClusterCNN", {"dropout": 0.0}),
        "EquivariantClusterCNN p4m": ("EquivariantClusterCNN", {"dropout": 0.0, "group": "p4m"}),
        "EquivariantClusterCNN plain twin 16-32-32": (
            "EquivariantClusterCNN",
            {"dropout": 0.0, "group": "plain", "channels": (16, 32, 32)},
        ),
    }
    return _training_rates(
        models,
        x,
        y,
        size={"image_size": image_size},
        batch_size=32,
        epochs=epochs,
        unit="images",
    )


def bench_cosmology(n_sims: int = 8, map_size: int = 64, n_maps: int = 3000) -> dict:
    """Chapters E/H: simulated maps per second (both fields, ``map_size`` px from as many
    particles per side, each suite), Gaussian control maps per second, power spectra per
    second and the fit times of the power-spectrum baseline and the strongest summary on
    ``n_maps`` maps."""
    from a3net.baselines.cosmology import (
        MapSummaryRegressor,
        PowerSpectrumRegressor,
        power_spectrum,
    )
    from a3net.data import cosmology
    from a3net.data.gaussian_maps import gaussian_control_maps

    out = {}
    params = cosmology.latin_hypercube(n_sims, seed=1)
    for suite in cosmology.SUITES:
        wall = _best_of(
            lambda suite=suite: cosmology.simulate_maps(
                params, suite=suite, map_size=map_size, grid=map_size, seed=1
            ),
            repeats=2,
        )
        out[f"simulated maps/s ({suite}, Mtot + P, {map_size} px)"] = (
            n_sims * cosmology.MAPS_PER_SIMULATION / wall
        )
    n_control = -(-n_maps // cosmology.MAPS_PER_SIMULATION)  # simulations for n_maps maps
    control_params = cosmology.latin_hypercube(n_control, seed=2)
    wall = _best_of(
        lambda: gaussian_control_maps(control_params, map_size=map_size, seed=2), repeats=2
    )
    out[f"Gaussian control maps/s ({map_size} px)"] = (
        n_control * cosmology.MAPS_PER_SIMULATION / wall
    )
    control, catalogue = gaussian_control_maps(control_params, map_size=map_size, seed=2)
    control, targets = control[:n_maps], catalogue[["omega_m", "sigma_8"]].to_numpy()[:n_maps]
    # two-field maps: the simulated boxes, repeated (and rolled) up to n_maps maps
    sim, sim_catalogue = cosmology.simulate_maps(params, map_size=map_size, grid=map_size, seed=1)
    repeat = np.arange(n_maps) % len(sim)
    shift = np.random.default_rng(3).integers(0, map_size, (n_maps, 2))
    fields = np.stack(
        [np.roll(sim[i], tuple(s), axis=(1, 2)) for i, s in zip(repeat, shift, strict=True)]
    )
    field_targets = sim_catalogue[["omega_m", "sigma_8"]].to_numpy()[repeat]
    n_bins = min(16, map_size // 4)  # the default 16 bins need maps of 64 px or more
    wall = _best_of(lambda: power_spectrum(control, n_bins=n_bins, contrast=False), repeats=3)
    out[f"power_spectrum maps/s (1 channel, {map_size} px)"] = len(control) / wall
    wall = _best_of(lambda: power_spectrum(fields, n_bins=n_bins), repeats=3)
    out[f"power_spectrum maps/s (Mtot + P, {map_size} px)"] = len(fields) / wall
    out[f"PowerSpectrumRegressor fit s ({len(control)} control maps)"] = _best_of(
        lambda: PowerSpectrumRegressor(contrast=False).fit(control, targets), repeats=2
    )
    out[f"PowerSpectrumRegressor fit s ({len(fields)} Mtot + P maps)"] = _best_of(
        lambda: PowerSpectrumRegressor().fit(fields, field_targets), repeats=2
    )
    # chapter E's strongest summary: spectrum, one-point PDF and peaks, 30 settings by 5-fold
    # cross-validation grouped by simulation
    groups = sim_catalogue["sim_id"].to_numpy()[repeat]
    out[f"MapSummaryRegressor fit s ({len(fields)} Mtot + P maps, grouped CV)"] = _best_of(
        lambda: MapSummaryRegressor(n_bins=n_bins).fit(fields, field_targets, groups=groups),
        repeats=1,
    )
    return out


def bench_cosmology_training(n_images: int = 1024, image_size: int = 64, epochs: int = 2) -> dict:
    """Chapters E/H: training maps per second of every cosmology model in both frameworks
    (maps of 2 fields, batch 32, two targets), timed by :func:`_training_rates`."""
    x = np.random.default_rng(0).random((n_images, 2, image_size, image_size), dtype=np.float32)
    y = np.random.default_rng(1).random((n_images, 2), dtype=np.float32)
    models = {
        "CosmoCNN (layer norm, hack H)": ("CosmoCNN", {}),
        "CosmoCNN (group norm)": ("CosmoCNN", {"norm": "group"}),
        "CosmoBatchNormCNN (hack E)": ("CosmoBatchNormCNN", {"n_outputs": 2}),
        "CosmoResNet (hack E)": ("CosmoResNet", {}),
        "CosmoMomentCNN": ("CosmoMomentCNN", {}),
    }
    return _training_rates(
        models,
        x,
        y,
        size={"image_size": image_size},
        batch_size=32,
        epochs=epochs,
        unit="maps",
    )


def bench_spectra(n_spectra: int = 4000, n_bins: int = 128) -> dict:
    """Chapters A/B: simulated spectra per second (observed frame, 3841 pixels), preprocessed
    spectra per second (rest frame, common range, flux-conserving rebinning to ``n_bins``), the
    time of one yardstick score (FD-infinity and the joint one with their bootstrap intervals,
    the classifier test) and the PCA-plus-regression reference's FD-infinity and classifier AUC
    against the held-out spectra."""
    from a3net.baselines.spectra import PCASpectrumModel
    from a3net.data import spectra_prep
    from a3net.data.spectra import simulate_spectra
    from a3net.evaluation.yardstick import SpectrumYardstick

    simulate_spectra(100, seed=1)  # builds the stellar library once
    raw = simulate_spectra(n_spectra, seed=2)
    sim = _best_of(lambda: simulate_spectra(n_spectra, seed=2), 2)
    prep = _best_of(lambda: spectra_prep.preprocess(raw, n_bins=n_bins), 2)
    data, _ = spectra_prep.preprocess(raw, n_bins=n_bins)
    train, test = spectra_prep.split_spectra(data, test_fraction=0.25, seed=0)
    scaler = spectra_prep.LabelScaler().fit(train.labels)
    c_train, c_test = scaler.transform(train.labels), scaler.transform(test.labels)
    yardstick = SpectrumYardstick(
        train.flux, train.ivar, test.flux, test.ivar, c_test, loglam=data.loglam, n_boot=100
    )
    sample = PCASpectrumModel().fit(train.flux, c_train).sample(c_test)
    score = yardstick.score(sample)
    return {
        "simulated spectra/s": n_spectra / sim,
        f"preprocessed spectra/s ({n_bins} bins)": n_spectra / prep,
        f"yardstick score, {len(test.flux)} held-out spectra, 100 resamples [s]": _best_of(
            lambda: yardstick.score(sample), 2
        ),
        "PCA reference FD-infinity": score["FD∞"],
        "PCA reference classifier AUC": score["C2ST AUC"],
    }


def bench_spectra_training(n_spectra: int = 2048, n_bins: int = 128, epochs: int = 2) -> dict:
    """Chapters A/B: training spectra per second of the WGAN (old chapter A sizes, the default
    constructor, clipping, and chapter A's recipe), the cVAE, and the GAN in the latent space of
    16 PCA coefficients, in both frameworks, timed by :func:`_training_rates` (a recipe or
    latent GAN's fit batch of 320 makes 5 critic steps of 64 and one generator step)."""
    x = np.random.default_rng(0).standard_normal((n_spectra, n_bins)).astype(np.float32)
    c = np.random.default_rng(1).standard_normal((n_spectra, 4)).astype(np.float32)
    models = {
        "SpectrumWGAN (chapter A: channels 8, hidden 64, n_critic 2)": (
            "SpectrumWGAN", {"channels": 8, "hidden": 64, "n_critic": 2}),
        "SpectrumWGAN (defaults: channels 32, n_critic 5)": ("SpectrumWGAN", {}),
        "SpectrumWGAN, clipping (chapter A sizes)": (
            "SpectrumWGAN", {"channels": 8, "hidden": 64, "n_critic": 2, "clip_value": 0.03}),
        "SpectrumCVAE (channels 16)": ("SpectrumCVAE", {"channels": 16, "hidden": 64}),
    }  # fmt: skip
    rates = _training_rates(
        models, x, c, size={"n_bins": n_bins}, batch_size=64, epochs=epochs, unit="spectra"
    )
    # chapter A's recipe GAN: noise-aware (flux and sigma), fresh real batches of 64 per critic
    # step (a fit batch of 5 x 64); and the GAN in the latent space of 16 PCA coefficients
    paired = np.stack([x, np.full_like(x, 0.1)], axis=1)
    recipe = {
        "SpectrumWGAN recipe (channels 16, hidden 64, n_critic 5)": ("SpectrumWGAN", {
            "channels": 16, "hidden": 64, "n_critic": 5, "conditioning": "projection",
            "noise_aware": True, "fresh_batches": True, "betas": (0.0, 0.9)}),
    }  # fmt: skip
    rates |= _training_rates(
        recipe, paired, c, size={"n_bins": n_bins}, batch_size=320, epochs=epochs, unit="spectra"
    )
    latent = {"LatentSpectrumWGAN (16 coefficients, n_critic 5)": ("LatentSpectrumWGAN", {})}
    rates |= _training_rates(
        latent, x[:, :16].copy(), c, size={"n_features": 16}, batch_size=320, epochs=10 * epochs,
        unit="spectra",
    )  # fmt: skip
    return rates


def run_chapter(path: Path, profile: str, framework: str, timeout: int = 1800) -> dict:
    """Run a chapter notebook in a fresh kernel: wall time and the claims cell's printed lines."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {"A3NET_PROFILE": profile, "A3NET_FRAMEWORK": framework}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        wall = time.perf_counter() - start
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    claims = []
    for cell in nb.cells:
        if "claims" in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    claims += [line for line in output["text"].splitlines() if line.strip()]
    return {"wall_s": round(wall, 1), "claims": claims}


BENCHMARKS = {
    "ring_generation": bench_ring_generation,
    "photoz": bench_photoz,
    "hough": bench_hough,
    "ring_bound": bench_ring_bound,
    "clusters": bench_clusters,
    "cluster_training": bench_cluster_training,
    "cosmology": bench_cosmology,
    "cosmology_training": bench_cosmology_training,
    "spectra": bench_spectra,
    "spectra_training": bench_spectra_training,
}
"""Every benchmark besides the chapters' wall times, by its key in the results."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--profiles", nargs="+", default=["smoke", "default"])
    parser.add_argument("--frameworks", nargs="+", default=["torch", "keras"])
    parser.add_argument(
        "--chapters",
        nargs="+",
        default=None,
        help="chapter letters or notebook paths (default: every chapter of a3net/chapters.py)",
    )
    parser.add_argument(
        "--skip-chapters", action="store_true", help="only the simulator benchmarks"
    )
    parser.add_argument(
        "--refresh",
        nargs="*",
        choices=sorted(BENCHMARKS),
        help="rerun only these benchmarks (and the chapters given with --chapters, if any) and "
        "update the existing results in --out",
    )
    args = parser.parse_args(argv)

    if args.refresh is not None:
        results = json.loads((args.out / "results.json").read_text())
        for key in args.refresh:
            results[key] = BENCHMARKS[key]()
        for chapter in _chapter_paths(args.chapters or []):
            _run_chapters(results, chapter, args.profiles, args.frameworks)
        write_results(results, args.out)
        return 0
    results = {
        "machine": {
            "python": platform.python_version(),
            "cpu_threads": n_threads(),
            "platform": platform.platform(),
        },
        **{key: bench() for key, bench in BENCHMARKS.items()},
        "chapters": {},
    }
    if not args.skip_chapters:
        chapters = _chapter_paths(args.chapters) if args.chapters else registry.notebooks(ROOT)
        for chapter in chapters:
            _run_chapters(results, chapter, args.profiles, args.frameworks)

    write_results(results, args.out)
    return 0


def _chapter_paths(names: list[str]) -> list[Path]:
    """Notebook paths for ``--chapters``: a letter names its registry notebook, else a path."""
    return [
        ROOT / registry.by_letter(name).notebook if len(name) == 1 else Path(name) for name in names
    ]


def _run_chapters(results: dict, chapter: Path, profiles, frameworks) -> None:
    """Run ``chapter`` under every profile and framework into ``results["chapters"]``."""
    for profile in profiles:
        for framework in frameworks:
            key = f"{chapter.stem} | {profile} | {framework}"
            print(f"running {key} ...", flush=True)
            results.setdefault("chapters", {})[key] = run_chapter(chapter, profile, framework)
            print(f"  {results['chapters'][key]['wall_s']} s", flush=True)


def write_results(results: dict, out: Path) -> None:
    """``results.json`` and the readable ``results.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {results['machine']}",
        "",
        "## Ring generation",
        "",
    ]
    for setting, values in results["ring_generation"].items():
        lines.append(
            f"- {setting}: "
            + "; ".join(
                f"{k} = {v:,.0f}" if v > 100 else f"{k} = {v:.1f}" for k, v in values.items()
            )
        )
    lines += ["", "## Photometric redshifts (chapter C)", ""]
    lines += [
        f"- {k} = {v:,.0f}" if v > 100 else f"- {k} = {v:.1f}" for k, v in results["photoz"].items()
    ]
    lines += ["", "## Hough circle fits (chapter F)", ""]
    lines += [
        f"- {k} = {v:,.0f}" if v > 100 else f"- {k} = {v:.3g}" for k, v in results["hough"].items()
    ]
    if "ring_bound" in results:
        lines += ["", "## The image's Cramer-Rao bound and the tuned PCA + SVM (chapter F)", ""]
        lines += [f"- {k} = {v:.3g}" for k, v in results["ring_bound"].items()]
    for key, title in (
        ("clusters", "Cluster images (chapters D and G)"),
        ("cluster_training", "Cluster models, training on the CPU (chapters D and G)"),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- {k} = {v:,.0f}" for k, v in results[key].items()]
    for key, title in (
        ("cosmology", "Cosmology maps and baselines (chapters E and H)"),
        ("cosmology_training", "Cosmology models, training on the CPU (chapters E and H)"),
        ("spectra", "Galaxy spectra, preprocessing and the PCA reference (chapters A and B)"),
        ("spectra_training", "Spectrum models, training on the CPU (chapters A and B)"),
    ):
        if key not in results:  # a results file from before these benchmarks, refreshed in part
            continue
        lines += ["", f"## {title}", ""]
        lines += [
            f"- {k} = {v:,.0f}" if v > 100 else f"- {k} = {v:.3g}" for k, v in results[key].items()
        ]
    lines += ["", "## Chapters (wall time, claims)", ""]
    for key, value in results["chapters"].items():
        lines.append(f"### {key}: {value['wall_s']} s")
        lines += ["", "```", *value["claims"], "```", ""]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print(f"results written to {out}/results.json and results.md")


if __name__ == "__main__":
    raise SystemExit(main())
