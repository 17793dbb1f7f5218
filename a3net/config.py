"""The three run profiles and every size and epoch count, per chapter.

``smoke``   CI on 2 CPU cores: each chapter in at most 60 s per framework; results still beat
            trivial baselines.
``default`` the rendered book and Colab on a CPU: at most 5 min per chapter, large enough that
            every claim of the chapter holds.
``full``    paper-scale data and epochs on one GPU.

Each chapter's profile is one table, declared once: a frozen dataclass, in the order A-H, with one
line per setting that gives its type, its smoke, default and full values, and a comment::

    @chapter_profile
    class RingsProfile(ChapterProfile):
        chapter: ClassVar[str] = "F"
        n_count: int = by_profile(2000, 8000, 10_000)  # images per counting experiment

A longer note on a setting, where its line has no room for it, goes on a comment line above it.
:func:`chapter_profile` builds the three frozen instances into :data:`PROFILES` (chapter letter,
then profile name). A setting without its three values, or with a value that is not of the
declared type, fails at import with a sentence naming the chapter and the setting. Notebooks never
hard-code a size or an epoch count: they read them with ``a3net.profile("F")``.
"""

import dataclasses
import inspect
import typing
from dataclasses import dataclass
from typing import ClassVar

PROFILE_NAMES = ("smoke", "default", "full")

# Every chapter's settings, PROFILES[letter][profile name], filled by chapter_profile in A-H order.
PROFILES: dict[str, dict[str, "ChapterProfile"]] = {}


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


class _ByProfile:
    """A setting's values under the profiles of :data:`PROFILE_NAMES`, until the class is built."""

    __slots__ = ("values",)

    def __init__(self, values: tuple):
        self.values = values

    def __repr__(self) -> str:
        return f"by_profile{self.values!r}"


def by_profile(*values) -> typing.Any:
    """A setting's values under the ``smoke``, ``default`` and ``full`` profiles, in that order.

    All three are required; :func:`chapter_profile` checks them when it builds the class.
    """
    return _ByProfile(values)


def _is_instance(value, kind) -> bool:
    """Whether ``value`` is of the declared type ``kind`` (a bool is not an int here)."""
    kind = typing.get_origin(kind) or kind
    if isinstance(value, bool) and kind is not bool:
        return False
    return isinstance(value, kind)


def _type_name(kind) -> str:
    """How ``kind`` is written in a declaration: ``int``, ``tuple[int, ...]``."""
    return kind.__name__ if isinstance(kind, type) else str(kind)


def chapter_profile(cls: type) -> type:
    """Class decorator: a frozen dataclass whose smoke, default and full instances go to PROFILES.

    Every field of ``cls`` other than its ClassVars must be declared with
    ``by_profile(smoke, default, full)``.
    """
    chapter = cls.__dict__.get("chapter")
    if not chapter:
        raise TypeError(f"profile class {cls.__name__} must set its chapter letter (a ClassVar).")
    if chapter in PROFILES:
        owner = type(PROFILES[chapter][PROFILE_NAMES[0]]).__name__
        raise ValueError(f"chapter {chapter} already has a profile class, {owner}.")
    own = inspect.get_annotations(cls)
    hints = typing.get_type_hints(cls)
    table = {}
    for key in own:
        if typing.get_origin(hints[key]) is ClassVar:
            continue
        declared = cls.__dict__.get(key)
        if not isinstance(declared, _ByProfile):
            raise TypeError(
                f"chapter {chapter}'s profile setting {key!r} needs its three values; declare it "
                f"as {key}: {_type_name(hints[key])} = by_profile(smoke, default, full)."
            )
        if len(declared.values) != len(PROFILE_NAMES):
            raise TypeError(
                f"chapter {chapter}'s profile setting {key!r} has {len(declared.values)} values "
                f"{declared.values}; by_profile needs exactly three: smoke, default and full."
            )
        for name, value in zip(PROFILE_NAMES, declared.values, strict=True):
            if not _is_instance(value, hints[key]):
                raise TypeError(
                    f"chapter {chapter}'s profile setting {key!r} is declared "
                    f"{_type_name(hints[key])} but its {name} value is {value!r} "
                    f"({type(value).__name__})."
                )
        table[key] = declared.values
        delattr(cls, key)  # no default: the dataclass requires every setting
    stray = [k for k, v in vars(cls).items() if isinstance(v, _ByProfile)]
    if stray:
        raise TypeError(
            f"chapter {chapter}'s profile setting {stray[0]!r} has values but no type; "
            f"declare it as {stray[0]}: <type> = by_profile(smoke, default, full)."
        )
    cls = dataclass(frozen=True)(cls)
    PROFILES[chapter] = {
        name: cls(name=name, **{key: values[i] for key, values in table.items()})
        for i, name in enumerate(PROFILE_NAMES)
    }
    return cls


@chapter_profile
class SpectraGANProfile(ChapterProfile):
    """Chapter A: a conditional WGAN of galaxy spectra against a cVAE and a PCA model."""

    chapter: ClassVar[str] = "A"

    n_spectra: int = by_profile(2500, 8000, 60_000)  # simulated spectra; cleaning removes about 1%
    n_bins: int = by_profile(64, 128, 512)  # rest-frame bins after resampling (SDSS: ~3800 pixels)
    test_fraction: float = by_profile(0.2, 0.2, 0.2)  # held-out share; all scores use their labels
    batch_size: int = by_profile(64, 64, 64)  # real spectra per critic step; the other minibatches
    # the yardstick: components above twice the noise, of at most these; bootstrap resamples
    yardstick_components: int = by_profile(32, 32, 32)  # most components the noise edge considers
    n_boot: int = by_profile(20, 100, 200)  # bootstrap resamples of the test objects per score
    latent_dim: int = by_profile(16, 16, 16)  # noise inputs of the recipe GAN and the latent GAN
    gan_hidden: int = by_profile(64, 64, 512)  # width of the GANs' dense layers
    # 8 channels give CBAM's channel attention one unit (reduction 8); the recipe asks for more
    gan_channels: int = by_profile(8, 16, 64)  # channels of the GANs' ResNet + CBAM stages
    n_critic: int = by_profile(2, 5, 5)  # critic steps per generator step (each a fresh real batch)
    gan_epochs: int = by_profile(2, 8, 100)  # epochs of the recipe GAN (n_critic batches a step)
    gan_lr: float = by_profile(1e-4, 1e-4, 1e-4)  # Adam, betas (0, 0.9): Gulrajani et al. 2017
    # the hack's runs; its slides: 20 epochs in batches of 20, 50 epochs in batches of 50
    hack_runs: tuple = by_profile(((1, 20),), ((1, 20),), ((20, 20), (50, 50)))  # (epochs, batch)
    hack_lr: float = by_profile(1e-4, 1e-4, 1e-4)  # RMSprop; the repository's critic rate
    clip_value: float = by_profile(0.03, 0.03, 0.03)  # the hack's weight clipping bound
    latent_components: int = by_profile(16, 16, 16)  # PCA coefficients the latent GAN draws
    latent_hidden: int = by_profile(64, 128, 256)  # width of the latent GAN's dense layers
    latent_epochs: int = by_profile(20, 200, 500)  # epochs of the latent GAN (20 steps each)
    latent_lr: float = by_profile(1e-3, 1e-3, 2e-4)  # Adam, betas (0, 0.9)
    vae_latent_dim: int = by_profile(8, 8, 8)  # latent dimension of the cVAE
    vae_channels: int = by_profile(8, 16, 64)  # channels of the cVAE's convolution stages
    vae_epochs: int = by_profile(6, 20, 100)  # epochs of the cVAE
    pca_components: int = by_profile(16, 16, 16)  # components of the PCA reference generator
    n_xcorr: int = by_profile(20, 200, 1000)  # test spectra cross-correlated with templates


@chapter_profile
class LatentSpaceProfile(ChapterProfile):
    """Chapter B: the latent space of the spectrum WGAN (noise, sizes, labels as inputs)."""

    chapter: ClassVar[str] = "B"

    n_spectra: int = by_profile(1500, 5000, 60_000)  # simulated spectra before cleaning
    n_bins: int = by_profile(64, 128, 512)  # rest-frame bins after resampling
    test_fraction: float = by_profile(0.2, 0.2, 0.2)  # held-out share; all scores use their labels
    batch_size: int = by_profile(64, 64, 64)  # minibatch (per critic step of the latent GANs)
    yardstick_components: int = by_profile(32, 32, 32)  # most components the noise edge considers
    n_boot: int = by_profile(20, 50, 200)  # bootstrap resamples of the test objects per score
    # hack B's four setups, one ResNet + CBAM GAN each, as the hack ran them
    gan_hidden: int = by_profile(512, 512, 512)  # width of every GAN's dense layers (the hack: 512)
    gan_channels: int = by_profile(8, 8, 64)  # channels of the ResNet + CBAM stages
    n_critic: int = by_profile(2, 2, 5)  # critic steps per generator step
    gan_epochs: int = by_profile(1, 1, 60)  # epochs of each of hack B's GANs (the hack: 5)
    gan_lr: float = by_profile(1e-3, 1e-3, 1e-4)  # learning rate of both GAN optimisers (constant)
    # the seeded comparisons: chapter A's GAN in the latent space of principal components
    latent_components: int = by_profile(16, 16, 16)  # PCA coefficients the latent GANs draw
    latent_hidden: int = by_profile(64, 128, 256)  # width of the latent GANs' dense layers
    latent_critic: int = by_profile(5, 5, 5)  # critic steps per generator step, fresh batches
    latent_epochs: int = by_profile(8, 50, 300)  # epochs of each latent GAN (13 steps each)
    latent_lr: float = by_profile(1e-3, 1e-3, 2e-4)  # Adam, betas (0, 0.9)
    n_seeds: int = by_profile(2, 3, 5)  # training seeds of every compared setting
    n_xcorr: int = by_profile(10, 100, 1000)  # test spectra cross-correlated with templates


@chapter_profile
class PhotozProfile(ChapterProfile):
    """Chapter C: photometric redshifts (simulated deep field and the SDSS ugriz table)."""

    chapter: ClassVar[str] = "C"

    n_galaxies: int = by_profile(12_000, 60_000, 200_000)  # detected objects (~1/4 pass the cuts)
    spec_fraction: float = by_profile(0.05, 0.05, 0.05)  # galaxies with a spectrum (bright first)
    line_bias: float = by_profile(1.5, 1.5, 1.5)  # log odds of a spectrum: star-forming galaxies
    n_photometric_test: int = by_profile(1000, 4000, 20_000)  # photometric-only galaxies scored
    cv_folds: int = by_profile(3, 3, 5)  # folds of the searches and the model comparison
    n_trees: int = by_profile(60, 150, 500)  # trees of the random forests
    search_candidates: int = by_profile(3, 12, 48)  # settings per learner (successive halving)
    sdss_candidates: int = by_profile(2, 2, 24)  # settings per learner on SDSS (5000 galaxies)
    mlp_epochs: int = by_profile(8, 60, 200)  # epochs of the MLP (256-256-256, L1 loss)
    sdss_mlp_epochs: int = by_profile(4, 30, 200)  # on SDSS (3.6 times the training galaxies)
    batch_size: int = by_profile(128, 128, 512)  # minibatch size of the MLP
    z_step: float = by_profile(0.02, 0.01, 0.01)  # template-fit redshift grid step in ln(1 + z)
    n_loop: int = by_profile(8, 20, 100)  # galaxies the plain-loop template fit is timed on
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstrap resamplings behind every margin


@chapter_profile
class ClusterMassesProfile(ChapterProfile):
    """Chapter D: cluster masses from mock X-ray images, and rotations."""

    chapter: ClassVar[str] = "D"
    # ``full`` trains with the paper's and the hack's batch size of 16, smaller than the CPU
    # profiles' 32; the test that sizes grow from default to full leaves it out.
    hack_epochs: ClassVar[tuple] = ("batch_size",)

    image_size: int = by_profile(48, 48, 128)  # pixels per side of the mock images (the hack: ~140)
    n_clusters: int = by_profile(300, 800, 2000)  # simulated clusters (paper 329; hack 986 images)
    projections: int = by_profile(4, 5, 5)  # images per cluster (independent lines of sight)
    val_fraction: float = by_profile(0.1, 0.1, 0.1)  # share of the clusters held out to validate
    test_fraction: float = by_profile(0.2, 0.2, 0.1)  # share of the clusters held out to test
    cnn_epochs: int = by_profile(6, 20, 100)  # epochs of the Ntampaka et al. (2019) CNN
    cnn_seeds: int = by_profile(1, 3, 5)  # trainings of the Ntampaka CNN, one seed each
    n_floor: int = by_profile(2000, 20000, 50000)  # simulated clusters behind the floor
    profile_settings: int = by_profile(4, 10, 30)  # boosted-tree settings tried by cross-validation
    # widths of the deeper CNN's three conv pairs (the hack: 32, 64, 128)
    deep_channels: tuple = by_profile((8, 16, 32), (8, 16, 32), (32, 64, 128))  # deeper CNN
    deep_epochs: int = by_profile(2, 5, 40)  # epochs of the two networks on augmented images
    augment_copies: int = by_profile(1, 1, 10)  # rotated or flipped copies per image (the hack: 10)
    # RandomRotation factors of the sweep (the hack's: 0.01, 0.1, 0.2 of a full turn)
    rotation_factors: tuple = by_profile((0.1,), (0.01, 0.1, 0.2), (0.01, 0.1, 0.2))  # sweep
    rotation_epochs: int = by_profile(2, 6, 100)  # epochs of each random-rotation model
    batch_size: int = by_profile(32, 32, 16)  # minibatch size (Ntampaka et al. and the hack: 16)
    learning_rate: float = by_profile(2e-3, 2e-3, 1e-3)  # peak learning rate of the cosine schedule
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstrap resamplings behind every margin


@chapter_profile
class CosmologyParametersProfile(ChapterProfile):
    """Chapter E: Omega_m and sigma_8 from CAMELS-like maps: the information ladder (Gaussian,
    Zel'dovich, halos, gas), the strongest summary against a CNN, the hack's networks, six
    parameters in SIMBA-like maps and the simulator against theory."""

    chapter: ClassVar[str] = "E"

    n_sims: int = by_profile(60, 200, 1000)  # boxes per suite and step, 15 maps each (hack: 1000)
    n_sims_shift: int = by_profile(60, 200, 1000)  # SIMBA-like simulations (simulated: = n_sims)
    map_size: int = by_profile(32, 32, 64)  # pixels per side of the networks' maps (hack: 64)
    grid: int = by_profile(48, 64, 128)  # particles per side of every simulated box
    # train, validation and test shares of the simulations (the hack: 0.7, 0.2, 0.1)
    split: tuple = by_profile((0.7, 0.15, 0.15), (0.7, 0.15, 0.15), (0.7, 0.15, 0.15))  # shares
    augment_copies: int = by_profile(1, 1, 3)  # random turns or mirrors per training map (hack: 0)
    cnn_epochs: int = by_profile(1, 3, 30)  # epochs of every network of the chapter, all equal
    theory_boxes: int = by_profile(3, 8, 20)  # boxes per (Omega_m, sigma_8) of the theory checks
    batch_size: int = by_profile(32, 32, 32)  # minibatch size of every network
    learning_rate: float = by_profile(2e-3, 2e-3, 2e-3)  # peak learning rate of the cosine schedule
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstraps (over test simulations) per margin


@chapter_profile
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

    n_count: int = by_profile(2000, 8000, 10_000)  # images per counting experiment (train + test)
    count_test_fraction: float = by_profile(0.3, 0.3, 0.3)  # held out (the hack: 3000 of 10000)
    count_max_rings: tuple = by_profile((2, 3), (2, 3), (2, 3, 4, 5))  # rings-per-image maxima
    count_epochs: int = by_profile(7, 7, 5)  # epochs of the counting CNN
    # training images the PCA + SVM cross-validation search sees (full: all 7000; refit on all)
    svm_search_images: int = by_profile(600, 3000, 7000)  # images in the PCA + SVM search
    n_regress: int = by_profile(2500, 10_000, 10_000)  # single-ring images to regress (train+test)
    regress_test_fraction: float = by_profile(0.2, 0.2, 0.2)  # held-out share (hack: 2000 of 10000)
    regress_epochs: int = by_profile(5, 12, 8)  # epochs of the regression CNNs
    mlp_epochs: int = by_profile(5, 12, 8)  # epochs of the fully-connected regressors
    hack_regress_epochs: int = by_profile(3, 8, 8)  # epochs of the hack's two regressors (its 8)
    # seeds of the CNN regressor: the spread of thickness against deformation
    regress_seeds: int = by_profile(1, 2, 5)  # CNN regressor trainings (initial weights, batches)
    n_ellipse: int = by_profile(2000, 8000, 10_000)  # inclined-track (elliptical) rings to regress
    ellipse_epochs: int = by_profile(4, 9, 8)  # epochs of the ellipse regressors
    max_inclination: float = by_profile(45.0, 45.0, 45.0)  # largest track inclination [deg]
    n_cvae: int = by_profile(1500, 5000, 5000)  # cVAE's single-ring image pool (hack: 4000 + 1000)
    cvae_epochs: int = by_profile(4, 6, 150)  # epochs of every cVAE (the hack: about 150)
    # training shares of the whole pool (the hack: 0.3 and 0.8)
    cvae_train_ratios: tuple = by_profile((0.3, 0.8), (0.3, 0.8), (0.3, 0.8))  # training shares
    # shares of the pool used at the largest ratio (0.375 x 0.8 = 0.3)
    cvae_pool_fractions: tuple = by_profile((0.375, 1.0), (0.375, 1.0), (0.2, 0.375, 1.0))  # pool
    latent_dim: int = by_profile(8, 8, 8)  # cVAE latent dimension
    cvae_seeds: int = by_profile(1, 2, 5)  # trainings of the fewest-ring cVAE settings
    batch_size: int = by_profile(64, 64, 64)  # minibatch size of every network
    n_classical: int = by_profile(200, 800, 2000)  # test images for Hough, circle and ellipse fits
    n_bound_images: int = by_profile(300, 600, 4000)  # images per ring in the bound's controls
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstrap resamplings behind every RMSE margin


@chapter_profile
class ClusterValidationProfile(ChapterProfile):
    """Chapter G: splits by cluster and by image, stratification, saliency with its controls and
    rotation-equivariant CNNs against augmentation."""

    chapter: ClassVar[str] = "G"
    # ``full`` trains with the paper's and the hack's batch size of 16, smaller than the CPU
    # profiles' 32; the test that sizes grow from default to full leaves it out.
    hack_epochs: ClassVar[tuple] = ("batch_size",)

    image_size: int = by_profile(48, 48, 128)  # pixels per side of the mock images (the hack: 140)
    n_clusters: int = by_profile(300, 500, 1000)  # simulated clusters (the paper: 329)
    projections: int = by_profile(3, 3, 3)  # images per cluster (the paper: 3, so 987 images)
    n_population: int = by_profile(300, 1000, 3000)  # unseen clusters, one image each
    repeats: int = by_profile(1, 2, 5)  # repetitions of the three splits, one seed each
    cnn_epochs: int = by_profile(3, 6, 100)  # epochs of G's CNN in every split
    equivariant_channels: tuple = by_profile((8, 16, 16), (8, 16, 16), (16, 32, 32))  # p4 / C4 CNN
    equivariant_epochs: int = by_profile(2, 6, 100)  # epochs of the equivariant CNNs
    equivariant_seeds: int = by_profile(1, 2, 5)  # trainings of every rotation model, one seed each
    batch_size: int = by_profile(32, 32, 16)  # minibatch size
    learning_rate: float = by_profile(2e-3, 2e-3, 1e-3)  # peak learning rate of the cosine schedule
    n_saliency: int = by_profile(32, 100, 500)  # test clusters whose saliency maps are stacked
    smoothgrad_samples: int = by_profile(4, 16, 32)  # noisy copies per SmoothGrad map
    random_draws: int = by_profile(2, 5, 10)  # untrained networks behind the saliency controls
    ig_steps: int = by_profile(8, 32, 64)  # path steps per integrated-gradients map
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstrap resamplings behind every margin


@chapter_profile
class CosmologySaliencyProfile(ChapterProfile):
    """Chapter H: hack H's CNN for Omega_m and sigma_8 over seeds, its saliency per class of pixel
    (halos in filaments, halos in nodes, filaments, voids) against controls, a halo-masking
    ablation, six parameters and what a power spectrum knows (the Gaussian control)."""

    chapter: ClassVar[str] = "H"

    n_sims: int = by_profile(60, 200, 1000)  # TNG-like simulations, 15 maps each (the hack: 1000)
    map_size: int = by_profile(32, 32, 64)  # pixels per side of the networks' maps (hack: 64)
    grid: int = by_profile(48, 64, 128)  # particles per side of every simulated box
    # train, validation and test shares of the simulations
    split: tuple = by_profile((0.7, 0.15, 0.15), (0.7, 0.15, 0.15), (0.7, 0.15, 0.15))  # shares
    augment_copies: int = by_profile(1, 1, 3)  # random turns or mirrors per training map (hack: 0)
    n_seeds: int = by_profile(2, 3, 5)  # trainings (seeds) of each two-parameter network
    cnn_epochs: int = by_profile(1, 4, 75)  # epochs of each two-parameter CNN (maps + copies)
    six_dense: int = by_profile(256, 1024, 4096)  # dense width, six-parameter CNN (the hack: 4096)
    six_epochs: int = by_profile(1, 2, 75)  # epochs of each six-parameter network (the hack: 300)
    n_control_sims: int = by_profile(60, 120, 1000)  # Gaussian control simulations, 15 maps each
    control_epochs: int = by_profile(2, 6, 30)  # epochs of the CNN on the Gaussian control
    # T-web smoothing [Mpc/h]: 2.6 pixels of 0.78 Mpc/h, about a filament's width (1-2 Mpc/h)
    web_smoothing: float = by_profile(2.0, 2.0, 2.0)  # T-web Gaussian sigma [Mpc/h]
    web_threshold: float = by_profile(0.2, 0.2, 0.2)  # T-web eigenvalue threshold (0.2-0.4: FR09)
    halo_min_mass: float = by_profile(1e12, 1e12, 1e12)  # lightest halo [Msun/h]: 4x a pixel's mass
    halo_radius: float = by_profile(1.0, 1.0, 1.0)  # a halo's pixels: within this many R200c
    mask_smoothing_px: float = by_profile(2.0, 2.0, 2.0)  # background of masked pixels: sigma [px]
    smoothgrad_samples: int = by_profile(1, 2, 16)  # noisy copies per map in SmoothGrad
    n_saliency: int = by_profile(90, 450, 2250)  # test maps whose saliency is summed (at most)
    batch_size: int = by_profile(32, 32, 32)  # minibatch size of every network
    learning_rate: float = by_profile(2e-3, 2e-3, 2e-3)  # peak learning rate of the cosine schedule
    n_bootstrap: int = by_profile(100, 300, 1000)  # bootstraps (over test simulations) per margin


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
