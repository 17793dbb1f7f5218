"""The three run profiles and every size and epoch count, per chapter.

``smoke``   CI on 2 CPU cores: each chapter in at most 60 s per framework; results still beat
            trivial baselines.
``default`` the rendered book and Colab on a CPU: at most 5 min per chapter, large enough that
            every claim of the chapter holds.
``full``    paper-scale data and epochs on one GPU.

Each chapter has one frozen dataclass whose fields are its settings, each with a comment, and
one instance per profile in :data:`PROFILES`: a profile that forgets a field fails at import,
so every profile has the same fields by construction. Notebooks never hard-code a size or an
epoch count: they read them with ``a3net.profile("F")``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

PROFILE_NAMES = ("smoke", "default", "full")


@dataclass(frozen=True)
class ChapterProfile:
    """Settings of one chapter under one profile: the base of every chapter's dataclass."""

    chapter: ClassVar[str] = ""  # the chapter's letter, set by each subclass
    name: str  # the profile: smoke, default or full

    def __getattr__(self, key):  # only called for names that are not fields
        if key.startswith("_"):
            raise AttributeError(key)
        known = ", ".join(f.name for f in dataclasses.fields(self))
        raise AttributeError(
            f"profile setting {key!r} does not exist for chapter {self.chapter}; "
            f"known settings: {known}."
        )


@dataclass(frozen=True)
class RingsProfile(ChapterProfile):
    """Chapter F: Cherenkov rings (28x28 images). The ``full`` profile is the hack's own setup."""

    chapter: ClassVar[str] = "F"
    # The hack trained for few epochs (5 counting, 8 regression); ``full`` repeats that, so these
    # may be smaller there than in ``default``.
    hack_epochs: ClassVar[tuple] = (
        "count_epochs",
        "regress_epochs",
        "mlp_epochs",
        "ellipse_epochs",
    )

    n_count: int  # images per counting experiment (train + test)
    count_test_fraction: float  # share of them held out (the hack: 3000 of 10000)
    count_max_rings: tuple  # maxima of rings per image to compare
    count_epochs: int  # epochs of the counting CNN
    pca_components: tuple  # principal components tried by PCA + SVM (the hack kept 50)
    n_regress: int  # single-ring images for regression (train + test)
    regress_test_fraction: float  # share of them held out (the hack: 2000 of 10000)
    regress_epochs: int  # epochs of the regression CNN
    mlp_epochs: int  # epochs of the fully-connected regressor
    n_ellipse: int  # inclined-track (elliptical) rings for the ellipse regressor
    ellipse_epochs: int  # epochs of the ellipse regressor
    max_inclination: float  # largest track inclination [deg]
    n_cvae: int  # pool of single-ring images for the cVAE (the hack: 4000 + 1000)
    cvae_epochs: int  # epochs of every cVAE (the hack: about 150)
    cvae_train_ratios: tuple  # training shares of the whole pool (the hack: 0.3 and 0.8)
    cvae_pool_fractions: tuple  # shares of the pool used at the largest ratio (0.375 x 0.8 = 0.3)
    latent_dim: int  # cVAE latent dimension
    batch_size: int  # minibatch size of every network
    n_classical: int  # test images the Hough, circle and ellipse fits are run on
    n_bootstrap: int  # bootstrap resamplings behind every RMSE margin in the claims


@dataclass(frozen=True)
class PhotozProfile(ChapterProfile):
    """Chapter C: photometric redshifts (simulated deep field and the SDSS ugriz table)."""

    chapter: ClassVar[str] = "C"

    n_galaxies: int  # simulated objects; about a fifth pass the cuts (z_spec, mass > 1e9 Msun)
    cv_folds: int  # folds of the cross-validated model comparison
    n_trees: int  # trees of the random forest
    svr_max_train: int  # SVR trains on at most this many galaxies (its cost grows as N^2)
    search_candidates: int  # boosted-tree settings tried by successive halving
    mlp_epochs: int  # epochs of the MLP (256-256-256, L1 loss)
    batch_size: int  # minibatch size of the MLP
    z_step: float  # template-fit redshift grid step in ln(1 + z)
    n_loop: int  # galaxies the plain-loop template fit is timed on
    n_bootstrap: int  # bootstrap resamplings behind every margin in the claims


@dataclass(frozen=True)
class ClusterMassesProfile(ChapterProfile):
    """Chapter D: cluster masses from mock X-ray images, and rotations."""

    chapter: ClassVar[str] = "D"
    # ``full`` trains with the paper's and the hack's batch size of 16, smaller than the CPU
    # profiles' 32; the test that sizes grow from default to full leaves it out.
    hack_epochs: ClassVar[tuple] = ("batch_size",)

    image_size: int  # pixels per side of the mock images (the hack: about 140)
    n_clusters: int  # simulated clusters (the hack: 986 from IllustrisTNG)
    projections: int  # images per cluster (independent lines of sight)
    val_fraction: float  # share of the clusters held out for validation
    test_fraction: float  # share of the clusters held out for the test
    cnn_epochs: int  # epochs of the Ntampaka et al. (2019) CNN
    deep_channels: tuple  # widths of D's deeper CNN's three conv pairs (the hack: 32, 64, 128)
    deep_epochs: int  # epochs of the deeper CNN on augmented images
    augment_copies: int  # rotated and flipped copies of every training image (the hack: 10)
    rotation_factor: float  # RandomRotation factor of the random-rotation model (hack: 0.01-0.2)
    rotation_epochs: int  # epochs of the random-rotation model
    batch_size: int  # minibatch size (Ntampaka et al. and the hack: 16)
    learning_rate: float  # peak learning rate of the cosine schedule
    n_bootstrap: int  # bootstrap resamplings behind every margin in the claims


@dataclass(frozen=True)
class ClusterValidationProfile(ChapterProfile):
    """Chapter G: splits, k-fold validation, saliency and a rotation-equivariant CNN."""

    chapter: ClassVar[str] = "G"
    # ``full`` trains with the paper's and the hack's batch size of 16, smaller than the CPU
    # profiles' 32; the test that sizes grow from default to full leaves it out.
    hack_epochs: ClassVar[tuple] = ("batch_size",)

    image_size: int  # pixels per side of the mock images (the hack: 140)
    n_clusters: int  # simulated clusters (the hack: 986)
    projections: int  # images per cluster
    folds: int  # k of the k-fold cross-validation
    cnn_epochs: int  # epochs of G's CNN in every fold and split
    equivariant_channels: tuple  # channels of the p4 / C4 equivariant CNN
    equivariant_epochs: int  # epochs of the equivariant CNN
    batch_size: int  # minibatch size
    learning_rate: float  # peak learning rate of the cosine schedule
    n_saliency: int  # test clusters whose saliency maps are stacked
    smoothgrad_samples: int  # noisy copies per SmoothGrad map
    ig_steps: int  # path steps per integrated-gradients map
    n_test_draws: int  # random and stratified test sets drawn from the out-of-fold predictions
    n_bootstrap: int  # bootstrap resamplings behind every margin in the claims


@dataclass(frozen=True)
class CosmologyParametersProfile(ChapterProfile):
    """Chapter E: Omega_m and sigma_8 from CAMELS-like maps, fields, models and suites."""

    chapter: ClassVar[str] = "E"

    n_sims: int  # TNG-like simulations, 15 maps each (the hack: 1000)
    n_sims_shift: int  # SIMBA-like simulations, only tested on (the suite shift)
    map_size: int  # pixels per side of the maps the networks see (the hack: 64)
    grid: int  # particles per side of every simulated box
    split: tuple  # train, validation, test shares of the simulations (the hack: 0.7, 0.2, 0.1)
    augment_copies: int  # randomly turned or mirrored copies of every training map (hack: 0)
    cnn_epochs: int  # epochs (over maps and copies) of the moment CNN, per field and on both
    leak_epochs: int  # epochs of the moment CNN that sees the maps' means
    hack_cnn_epochs: int  # epochs of the hack's Keras CNN (5x5 conv 8, 32, 64, dense 1024-32)
    resnet_epochs: int  # epochs of the trimmed ResNet18
    batch_size: int  # minibatch size of every network
    learning_rate: float  # peak learning rate of the cosine schedule
    n_bootstrap: int  # bootstrap resamplings (over test simulations) behind every margin


@dataclass(frozen=True)
class CosmologySaliencyProfile(ChapterProfile):
    """Chapter H: a small CNN for Omega_m and sigma_8, its saliency, six parameters and what a
    power spectrum knows (the Gaussian control)."""

    chapter: ClassVar[str] = "H"

    n_sims: int  # TNG-like simulations, 15 maps each (the hack: 1000)
    map_size: int  # pixels per side of the maps the networks see (the hack: 64)
    grid: int  # particles per side of every simulated box
    split: tuple  # train, validation, test shares of the simulations
    augment_copies: int  # randomly turned or mirrored copies of every training map (hack: 0)
    cnn_epochs: int  # epochs (over maps and copies) of the hack's CNN, per normalisation
    six_dense: int  # width of the dense layer of the hack's six-parameter CNN (the hack: 4096)
    six_epochs: int  # epochs of each six-parameter network (the hack: 300)
    n_control_sims: int  # Gaussian control simulations, 15 maps each
    control_epochs: int  # epochs of the CNN on the Gaussian control
    n_saliency: int  # test maps whose saliency maps are averaged
    batch_size: int  # minibatch size of every network
    learning_rate: float  # peak learning rate of the cosine schedule
    n_bootstrap: int  # bootstrap resamplings (over test simulations) behind every margin


@dataclass(frozen=True)
class SpectraGANProfile(ChapterProfile):
    """Chapter A: a conditional WGAN of galaxy spectra against a cVAE and a PCA model."""

    chapter: ClassVar[str] = "A"

    n_spectra: int  # simulated spectra before cleaning (about 1% are removed)
    n_bins: int  # rest-frame bins after resampling (the SDSS grid has about 3800 pixels)
    test_fraction: float  # share of the spectra held out; every score uses their labels
    batch_size: int  # minibatch size of every network (the hack: 20 and 50)
    latent_dim: int  # noise inputs of the GAN
    gan_hidden: int  # width of the GAN's dense layers
    gan_channels: int  # channels of the GAN's ResNet + CBAM stages
    n_critic: int  # critic steps per generator step
    gan_epochs: int  # epochs of each GAN (the hack: 20 and 50)
    gan_lr: float  # learning rate of both GAN optimisers (constant)
    clip_value: float  # the hack's weight clipping bound
    n_checkpoints: int  # last epochs whose Frechet ratio gives the checkpoint spread
    vae_latent_dim: int  # latent dimension of the cVAE
    vae_channels: int  # channels of the cVAE's convolution stages
    vae_epochs: int  # epochs of the cVAE
    pca_components: int  # principal components of the PCA reference generator
    frechet_components: int  # principal components of the Frechet feature space
    n_xcorr: int  # held-out spectra cross-correlated with the templates, per model


@dataclass(frozen=True)
class LatentSpaceProfile(ChapterProfile):
    """Chapter B: the latent space of the spectrum WGAN (noise, sizes, labels as inputs)."""

    chapter: ClassVar[str] = "B"

    n_spectra: int  # simulated spectra before cleaning
    n_bins: int  # rest-frame bins after resampling
    test_fraction: float  # share of the spectra held out; every score uses their labels
    batch_size: int  # minibatch size
    gan_hidden: int  # width of the dense layers of every GAN (the hack: 512)
    gan_channels: int  # channels of the ResNet + CBAM stages
    n_critic: int  # critic steps per generator step
    gan_epochs: int  # epochs of every GAN of the chapter (the hack: 5)
    gan_lr: float  # learning rate of both GAN optimisers (constant)
    n_checkpoints: int  # last epochs whose Frechet ratio gives the checkpoint spread
    frechet_components: int  # principal components of the Frechet feature space
    n_xcorr: int  # held-out spectra cross-correlated with the templates, per model


PROFILES: dict[str, dict[str, ChapterProfile]] = {
    "A": {
        "smoke": SpectraGANProfile(
            name="smoke",
            n_spectra=2500,
            n_bins=64,
            test_fraction=0.2,
            batch_size=64,
            latent_dim=16,
            gan_hidden=64,
            gan_channels=8,
            n_critic=2,
            gan_epochs=2,
            gan_lr=1e-3,
            clip_value=0.03,
            n_checkpoints=2,
            vae_latent_dim=8,
            vae_channels=8,
            vae_epochs=6,
            pca_components=16,
            frechet_components=16,
            n_xcorr=50,
        ),
        "default": SpectraGANProfile(
            name="default",
            n_spectra=8000,
            n_bins=128,
            test_fraction=0.2,
            batch_size=64,
            latent_dim=16,
            gan_hidden=64,
            gan_channels=8,
            n_critic=2,
            gan_epochs=6,
            gan_lr=1e-3,
            clip_value=0.03,
            n_checkpoints=4,
            vae_latent_dim=8,
            vae_channels=16,
            vae_epochs=20,
            pca_components=16,
            frechet_components=16,
            n_xcorr=200,
        ),
        "full": SpectraGANProfile(
            name="full",
            n_spectra=60000,
            n_bins=512,
            test_fraction=0.2,
            batch_size=64,
            latent_dim=16,
            gan_hidden=512,
            gan_channels=64,
            n_critic=5,
            gan_epochs=100,
            gan_lr=1e-4,
            clip_value=0.03,
            n_checkpoints=10,
            vae_latent_dim=8,
            vae_channels=64,
            vae_epochs=100,
            pca_components=16,
            frechet_components=16,
            n_xcorr=1000,
        ),
    },
    "B": {
        "smoke": LatentSpaceProfile(
            name="smoke",
            n_spectra=1500,
            n_bins=64,
            test_fraction=0.2,
            batch_size=64,
            gan_hidden=512,
            gan_channels=8,
            n_critic=2,
            gan_epochs=1,
            gan_lr=1e-3,
            n_checkpoints=1,
            frechet_components=16,
            n_xcorr=30,
        ),
        "default": LatentSpaceProfile(
            name="default",
            n_spectra=5000,
            n_bins=128,
            test_fraction=0.2,
            batch_size=64,
            gan_hidden=512,
            gan_channels=8,
            n_critic=2,
            gan_epochs=3,
            gan_lr=1e-3,
            n_checkpoints=2,
            frechet_components=16,
            n_xcorr=100,
        ),
        "full": LatentSpaceProfile(
            name="full",
            n_spectra=60000,
            n_bins=512,
            test_fraction=0.2,
            batch_size=64,
            gan_hidden=512,
            gan_channels=64,
            n_critic=5,
            gan_epochs=60,
            gan_lr=1e-4,
            n_checkpoints=10,
            frechet_components=16,
            n_xcorr=1000,
        ),
    },
    "C": {
        "smoke": PhotozProfile(
            name="smoke",
            n_galaxies=12000,
            cv_folds=3,
            n_trees=60,
            svr_max_train=1500,
            search_candidates=6,
            mlp_epochs=15,
            batch_size=128,
            z_step=0.02,
            n_loop=8,
            n_bootstrap=100,
        ),
        "default": PhotozProfile(
            name="default",
            n_galaxies=40000,
            cv_folds=3,
            n_trees=150,
            svr_max_train=4000,
            search_candidates=16,
            mlp_epochs=60,
            batch_size=128,
            z_step=0.01,
            n_loop=20,
            n_bootstrap=300,
        ),
        "full": PhotozProfile(
            name="full",
            n_galaxies=200000,
            cv_folds=5,
            n_trees=500,
            svr_max_train=20000,
            search_candidates=64,
            mlp_epochs=200,
            batch_size=512,
            z_step=0.01,
            n_loop=100,
            n_bootstrap=1000,
        ),
    },
    "D": {
        "smoke": ClusterMassesProfile(
            name="smoke",
            image_size=48,
            n_clusters=300,
            projections=4,
            val_fraction=0.1,
            test_fraction=0.2,
            cnn_epochs=6,
            deep_channels=(8, 16, 32),
            deep_epochs=3,
            augment_copies=1,
            rotation_factor=0.5,
            rotation_epochs=3,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=100,
        ),
        "default": ClusterMassesProfile(
            name="default",
            image_size=48,
            n_clusters=1500,
            projections=5,
            val_fraction=0.1,
            test_fraction=0.2,
            cnn_epochs=30,
            deep_channels=(8, 16, 32),
            deep_epochs=10,
            augment_copies=1,
            rotation_factor=0.5,
            rotation_epochs=10,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=300,
        ),
        "full": ClusterMassesProfile(
            name="full",
            image_size=128,
            n_clusters=2000,
            projections=5,
            val_fraction=0.1,
            test_fraction=0.1,
            cnn_epochs=100,
            deep_channels=(32, 64, 128),
            deep_epochs=40,
            augment_copies=10,
            rotation_factor=0.5,
            rotation_epochs=100,
            batch_size=16,
            learning_rate=1e-3,
            n_bootstrap=1000,
        ),
    },
    "G": {
        "smoke": ClusterValidationProfile(
            name="smoke",
            image_size=48,
            n_clusters=300,
            projections=4,
            folds=3,
            cnn_epochs=4,
            equivariant_channels=(8, 16, 16),
            equivariant_epochs=3,
            batch_size=32,
            learning_rate=2e-3,
            n_saliency=32,
            smoothgrad_samples=4,
            ig_steps=8,
            n_test_draws=200,
            n_bootstrap=100,
        ),
        "default": ClusterValidationProfile(
            name="default",
            image_size=48,
            n_clusters=800,
            projections=4,
            folds=5,
            cnn_epochs=8,
            equivariant_channels=(8, 16, 16),
            equivariant_epochs=8,
            batch_size=32,
            learning_rate=2e-3,
            n_saliency=200,
            smoothgrad_samples=16,
            ig_steps=32,
            n_test_draws=1000,
            n_bootstrap=300,
        ),
        "full": ClusterValidationProfile(
            name="full",
            image_size=128,
            n_clusters=1000,
            projections=5,
            folds=10,
            cnn_epochs=100,
            equivariant_channels=(16, 32, 32),
            equivariant_epochs=100,
            batch_size=16,
            learning_rate=1e-3,
            n_saliency=500,
            smoothgrad_samples=32,
            ig_steps=64,
            n_test_draws=2000,
            n_bootstrap=1000,
        ),
    },
    "F": {
        "smoke": RingsProfile(
            name="smoke",
            n_count=2000,
            count_test_fraction=0.3,
            count_max_rings=(2, 3),
            count_epochs=7,
            pca_components=(10, 50),
            n_regress=2500,
            regress_test_fraction=0.2,
            regress_epochs=5,
            mlp_epochs=5,
            n_ellipse=2000,
            ellipse_epochs=4,
            max_inclination=45.0,
            n_cvae=1500,
            cvae_epochs=4,
            cvae_train_ratios=(0.3, 0.8),
            cvae_pool_fractions=(0.375, 1.0),
            latent_dim=8,
            batch_size=64,
            n_classical=200,
            n_bootstrap=100,
        ),
        "default": RingsProfile(
            name="default",
            n_count=8000,
            count_test_fraction=0.3,
            count_max_rings=(2, 3, 4),
            count_epochs=7,
            pca_components=(10, 25, 50, 100),
            n_regress=10000,
            regress_test_fraction=0.2,
            regress_epochs=16,
            mlp_epochs=16,
            n_ellipse=8000,
            ellipse_epochs=12,
            max_inclination=45.0,
            n_cvae=5000,
            cvae_epochs=9,
            cvae_train_ratios=(0.3, 0.8),
            cvae_pool_fractions=(0.375, 1.0),
            latent_dim=8,
            batch_size=64,
            n_classical=800,
            n_bootstrap=300,
        ),
        "full": RingsProfile(  # the hack's own sizes and epochs
            name="full",
            n_count=10000,
            count_test_fraction=0.3,
            count_max_rings=(2, 3, 4, 5),
            count_epochs=5,
            pca_components=(10, 25, 50, 100),
            n_regress=10000,
            regress_test_fraction=0.2,
            regress_epochs=8,
            mlp_epochs=8,
            n_ellipse=10000,
            ellipse_epochs=8,
            max_inclination=45.0,
            n_cvae=5000,
            cvae_epochs=150,
            cvae_train_ratios=(0.3, 0.8),
            cvae_pool_fractions=(0.2, 0.375, 1.0),
            latent_dim=8,
            batch_size=64,
            n_classical=2000,
            n_bootstrap=1000,
        ),
    },
    "E": {
        "smoke": CosmologyParametersProfile(
            name="smoke",
            n_sims=100,
            n_sims_shift=16,
            map_size=32,
            grid=48,
            split=(0.7, 0.15, 0.15),
            augment_copies=1,
            cnn_epochs=4,
            leak_epochs=2,
            hack_cnn_epochs=2,
            resnet_epochs=2,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=100,
        ),
        "default": CosmologyParametersProfile(
            name="default",
            n_sims=200,
            n_sims_shift=30,
            map_size=32,
            grid=64,
            split=(0.7, 0.15, 0.15),
            augment_copies=3,
            cnn_epochs=8,
            leak_epochs=3,
            hack_cnn_epochs=3,
            resnet_epochs=3,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=300,
        ),
        "full": CosmologyParametersProfile(
            name="full",
            n_sims=1000,
            n_sims_shift=1000,
            map_size=64,
            grid=128,
            split=(0.7, 0.15, 0.15),
            augment_copies=3,
            cnn_epochs=30,
            leak_epochs=10,
            hack_cnn_epochs=30,
            resnet_epochs=30,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=1000,
        ),
    },
    "H": {
        "smoke": CosmologySaliencyProfile(
            name="smoke",
            n_sims=100,
            map_size=32,
            grid=48,
            split=(0.7, 0.15, 0.15),
            augment_copies=1,
            cnn_epochs=3,
            six_dense=256,
            six_epochs=3,
            n_control_sims=60,
            control_epochs=3,
            n_saliency=32,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=100,
        ),
        "default": CosmologySaliencyProfile(
            name="default",
            n_sims=200,
            map_size=32,
            grid=64,
            split=(0.7, 0.15, 0.15),
            augment_copies=3,
            cnn_epochs=5,
            six_dense=1024,
            six_epochs=6,
            n_control_sims=200,
            control_epochs=10,
            n_saliency=256,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=300,
        ),
        "full": CosmologySaliencyProfile(
            name="full",
            n_sims=1000,
            map_size=64,
            grid=128,
            split=(0.7, 0.15, 0.15),
            augment_copies=3,
            cnn_epochs=75,
            six_dense=4096,
            six_epochs=75,
            n_control_sims=1000,
            control_epochs=30,
            n_saliency=1000,
            batch_size=32,
            learning_rate=2e-3,
            n_bootstrap=1000,
        ),
    },
}


def settings(chapter: str, name: str) -> ChapterProfile:
    """Settings of ``chapter`` (a letter A-H) under profile ``name``."""
    if name not in PROFILE_NAMES:
        raise ValueError(
            f"profile {name!r} is unknown; use one of {', '.join(PROFILE_NAMES)} "
            "(argument or the A3NET_PROFILE environment variable)."
        )
    key = str(chapter).upper()
    if key not in PROFILES:
        raise ValueError(
            f"chapter {chapter!r} has no profile settings; "
            f"known chapters: {', '.join(sorted(PROFILES))}."
        )
    return PROFILES[key][name]
