"""Spectra (chapters A/B): SDSS DR2 cross-correlation templates and SDSS spec-lite spectra."""

from __future__ import annotations

from . import Row, Source

ZSALT = Source(
    "crawfordsm/zSALT",
    "d16262751b62b2e68d022ca448be31ddea5792f8",
    "the SDSS DR2 template tarball spectemplatesDR2.tar.gz at "
    "classic.sdss.org/dr7/algorithms/spectemplates or from github.com/crawfordsm/zSALT",
)
PYQSOFIT = Source(
    "legolason/PyQSOFit",
    "084df5a7d2af76b38719af5851b114ad9ecf4d60",
    "the SDSS Science Archive Server data.sdss.org/sas as a spec-lite file or from "
    "github.com/legolason/PyQSOFit",
)
CNNSTELLAR = Source(
    "sddzwll/CNNforStellarp",
    "e21ea41c7d039ff5d22600262d195b37cca2e6c7",
    "the SDSS Science Archive Server data.sdss.org/sas as a spec-lite file or from "
    "github.com/sddzwll/CNNforStellarp",
)
PPXF = Source(
    "bamford/ppxf",
    "ca75df76d83b177c658edca6400f5139ace0932e",
    "the SDSS Science Archive Server or the pPXF examples at github.com/bamford/ppxf",
)

TEMPLATE = "SDSS DR2 galaxy cross-correlation template {}: FITS image (4, NPIX), row 0 the flux, "
TEMPLATE += "log10(lambda/A) = COEFF0 + 1e-4 i"
SPEC_LITE = "real SDSS spec-lite spectrum: HDU1 COADD (flux [1e-17 erg/s/cm2/A], loglam, ivar, "
SPEC_LITE += "masks), HDU2 SPECOBJ (Z, CLASS), {}"

FILES: tuple[Row, ...] = (
    # SDSS DR2 galaxy templates 023-028 (chapters A/B: Tonry & Davis cross-correlation)
    Row(
        "sdss/spDR2-023.fit",
        ZSALT,
        "zsalt/template/spDR2-023.fit",
        "f09914d6e5510de9e4b304891a50b6c0a7b2cfd7957053335eac3b0f2be313db",
        95040,
        TEMPLATE.format("023 (early type), 3500-9197 A"),
    ),
    Row(
        "sdss/spDR2-024.fit",
        ZSALT,
        "zsalt/template/spDR2-024.fit",
        "ce52b703b8603f3870eabba8aa421ab974117ae13e64e1a7ac1c9f18a1a7f194",
        95040,
        TEMPLATE.format("024, 3500-9197 A"),
    ),
    Row(
        "sdss/spDR2-025.fit",
        ZSALT,
        "zsalt/template/spDR2-025.fit",
        "ae15454eb81299e2da357a92b4aa1f1c196799816201d50beab6f1c1f0ef20e1",
        95040,
        TEMPLATE.format("025, 3500-9197 A"),
    ),
    Row(
        "sdss/spDR2-026.fit",
        ZSALT,
        "zsalt/template/spDR2-026.fit",
        "76fc2a3ef63149a0eaa36628f87c78f99ca62932a28c629323a985b225aabd88",
        95040,
        TEMPLATE.format("026, 3500-9197 A"),
    ),
    Row(
        "sdss/spDR2-027.fit",
        ZSALT,
        "zsalt/template/spDR2-027.fit",
        "fb80d419be992acded3f03b00d9201ff83725a1e8e5108233ab67e0e1fe1d279",
        95040,
        TEMPLATE.format("027 (late type), 3500-9197 A"),
    ),
    Row(
        "sdss/spDR2-028.fit",
        ZSALT,
        "zsalt/template/spDR2-028.fit",
        "e733449ed4f6c814042c6cbfa818e7fcc11d355bbf9acb9f858846b3c94bb457",
        83520,
        TEMPLATE.format("028 (luminous red galaxy), 3000-6800 A"),
    ),
    # SDSS spectra (chapters A/B)
    Row(
        "sdss/spec-0266-51602-0013.fits",
        PYQSOFIT,
        "example/data/spec-0266-51602-0013.fits",
        "47110160c6b2a19e4c62106d292f5b16e1a0906c575ae481590835382a4d3f35",
        172800,
        SPEC_LITE.format("galaxy at z = 0.12132"),
    ),
    Row(
        "sdss/spec-0266-51602-0056.fits",
        CNNSTELLAR,
        "data/spec-0266-51602-0056.fits",
        "92e8ab6bb2b0c224e432ad0a963099db8ebf4db51f4b2e9303143c709b458770",
        172800,
        SPEC_LITE.format("galaxy at z = 0.20591 (velocity dispersion 267 km/s)"),
    ),
    Row(
        "sdss/spec-0266-51602-0107.fits",
        PYQSOFIT,
        "example/data/spec-0266-51602-0107.fits",
        "a2a6915a0547ce129bae5191c2b085ee4fc11c21dfcfd60c28ea7b6fe17f8111",
        172800,
        SPEC_LITE.format("star-forming galaxy at z = 0.12315"),
    ),
    Row(
        "sdss/spec-0332-52367-0639.fits",
        PYQSOFIT,
        "example/data/spec-0332-52367-0639.fits",
        "96b3361718b8fd9166c66723b6b1e13cc1968ff99317cd544fcfc962cd6a426e",
        604800,
        SPEC_LITE.format("broad-line QSO at z = 0.10061"),
    ),
    Row(
        "sdss/NGC4636_SDSS_DR12.fits",
        PPXF,
        "spectra/NGC4636_SDSS_DR12.fits",
        "f22bcb22e846cdf3cdf21dd9acd73d91152d91d5855ff622aa8e8970e970f503",
        604800,
        SPEC_LITE.format(
            "NGC 4636 (plate 522, MJD 52024, fiber 396) at z = 0.003025, plus 6 exposure HDUs"
        ),
    ),
    Row(
        "sdss/NGC3522_SDSS_DR8.fits",
        PPXF,
        "spectra/NGC3522_SDSS_DR8.fits",
        "022d34ab3a3a00078dcd22ecbd03cf687c511dd44042274450bbfe88687e0aff",
        172800,
        "SDSS DR8 spectrum of NGC 3522 in the old pPXF-example layout: one table with flux, "
        "best_fit, wavelength, and_mask, or_mask, inverse_variance (z = 0.003129, no SPECOBJ)",
    ),
)
