"""Galaxy clusters (chapters D/G): Planck PSZ2 masses and a Compton-y cutout, and one simulated
X-ray image of The Three Hundred."""

from __future__ import annotations

from . import Row, Source

DEEPPLANCK = Source(
    "The300th/DeepPlanck",
    "c35adb54585320f3add567969751b46b3110a693",
    "github.com/The300th/DeepPlanck",
)
THE300_XRAY = Source(
    "ashleigharendt/ClusterMergersXrayOnly",
    "f077ecaa34e3530dcf02c7bdb0991d8991378c94",
    "github.com/ashleigharendt/ClusterMergersXrayOnly as Xray.fits",
)

FILES: tuple[Row, ...] = (
    Row(
        "clusters/DeepPlanck.csv",
        DEEPPLANCK,
        "DeepPlanck.csv",
        "adc1734e3a7b06437c0c22a82c72d6fd2bbbdf9bed0cf893164771275b9c538f",
        145208,
        "1094 real Planck PSZ2 clusters (de Andres et al. 2022): cluster, Planck_mass and CNN_mass "
        "[log10 Msun], err+, err-, redshift, Y_500, err_Y",
    ),
    Row(
        "clusters/PSZ2G359.07-32.12.fits",
        DEEPPLANCK,
        "PSZ2G359.07-32.12.fits",
        "a8679b2b8d603bbb81e5cccc42b697fdd2c8967202d2a4004d3d33f2641a33d4",
        77760,
        "one real Planck Compton-y cutout, 96x96 float64, header Z = 0.1496 and M500",
    ),
    Row(
        "clusters/The300_Xray.fits",
        THE300_XRAY,
        "Xray.fits",
        "a9ea5d5d75f8cb144fdaf9cdaff96e6ef11acee81764b2683fa6072d991cba11",
        3280320,
        "SIMULATED X-ray image of a The Three Hundred cluster, 640x640 float64 [erg/s/cm2], "
        "log10 M200 = 14.391 Msun/h, z = 0.363; open with "
        "fits.open(..., ignore_missing_simple=True)",
    ),
)
