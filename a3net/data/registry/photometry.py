"""Photometry (chapter C): real SDSS, 2SLAQ and HDF-N catalogues with spectroscopic redshifts,
and the EAZY filter curves, templates and IGM coefficients."""

from __future__ import annotations

from . import Row, Source

COSMOPZ_EXT = Source(
    "COINtoolbox/CosmoPhotoz",
    "d22725a0e2a60e24090c3a64ca7c9da5794dc95d",
    "github.com/COINtoolbox/CosmoPhotoz, folder inst/extdata at commit d22725a",
)
COSMOPZ_PY = Source(
    "COINtoolbox/CosmoPhotoz",
    "5b66947e67339277fba3b387fde150c3e390155a",
    "github.com/COINtoolbox/CosmoPhotoz, folder Python/CosmoPhotoz/data at commit 5b66947",
)
EAZY = Source(
    "gbrammer/eazy-photoz",
    "0499b4bbff588ce4f54e638678affd5588770fae",
    "github.com/gbrammer/eazy-photoz",
)
EAZY_FILTERS = Source(
    "gbrammer/eazy-photoz",
    "4747b5955ef95117615560c45b96e1d4487e6613",
    "github.com/gbrammer/eazy-photoz, folder filters",
)

EAZY_SED = "EAZY v1.1 template SED {} (two columns: lambda [A], f_lambda)"

FILES: tuple[Row, ...] = (
    # Photometric redshifts (chapter C)
    Row(
        "photoz/sdss-ugriz-train.dat",
        COSMOPZ_EXT,
        "inst/extdata/sdss-ugriz-train.dat",
        "51201f48ca8d028f11bf0b637573456feb3a745860c3d6d7f1a07eaa7cf6e3fb",
        630000,
        "5000 real SDSS galaxies (ANNz example set): whitespace ASCII, no header, columns "
        "u g r i z, five magnitude errors, spectroscopic z (0.002-0.64)",
    ),
    Row(
        "photoz/sdss-ugriz-test.dat",
        COSMOPZ_EXT,
        "inst/extdata/sdss-ugriz-test.dat",
        "b03ae5fb18b469de31aba5cf7de77146ae74d8bb6b86681a0d8b04779bc995f9",
        756000,
        "6000 real SDSS galaxies, same 11 columns as photoz/sdss-ugriz-train.dat",
    ),
    Row(
        "photoz/2slaq_small.csv",
        COSMOPZ_PY,
        "Python/CosmoPhotoz/data/2slaq_small.csv",
        "087c2032121a5de340b55df8f3417b57dd721c8cf1508c98d31976ed1c69a200",
        594589,
        "14155 real 2SLAQ luminous red galaxies: CSV mag_u..mag_z, redshift (to 0.88)",
    ),
    Row(
        "eazy/inputs/hdfn_fs99_eazy.cat",
        EAZY,
        "inputs/hdfn_fs99_eazy.cat",
        "f2aef0d61e3848324b35d48276ff9f9c65df73b443892fce4b8396f150b3182c",
        273344,
        "1067 real HDF-N galaxies (Fernandez-Soto et al. 1999), 3D-HST-like catalogue: fluxes "
        "and errors in F300W F450W F606W F814W J H K with AB zero-point 25, z_spec = -1 for none",
    ),
    Row(
        "eazy/inputs/hdfn_fs99_eazy.cat.zspec.only",
        EAZY,
        "inputs/hdfn_fs99_eazy.cat.zspec.only",
        "3b9c974965e1781d85103da1d98517e2b893407849c11aa69c89ba1d29ec2113",
        29376,
        "the 114 HDF-N galaxies of eazy/inputs/hdfn_fs99_eazy.cat with a spectroscopic z "
        "(0.089-5.60)",
    ),
    Row(
        "eazy/inputs/zphot.translate",
        EAZY,
        "inputs/zphot.translate",
        "12cdc1e54d17aa918dab470dc20a07c4ab18e7123b6a5161feec687781eb50f1",
        168,
        "EAZY translate file mapping the HDF-N catalogue columns to FILTER.RES filter numbers",
    ),
    Row(
        "eazy/filters/FILTER.RES.latest",
        EAZY_FILTERS,
        "filters/FILTER.RES.latest",
        "82392335069fc02f0025c70f884df6bedd1b1694641e295bd77f45d0362f7826",
        3136167,
        "418 filter transmission curves in EAZY format ('N name' line, then N rows idx "
        "lambda[A] T)",
    ),
    Row(
        "eazy/filters/FILTER.RES.latest.info",
        EAZY_FILTERS,
        "filters/FILTER.RES.latest.info",
        "fdf3984cd2aaddeabf852f485254fb39cdfa0f6d691c9301cc16e5de51f53523",
        34336,
        "index of the filters in eazy/filters/FILTER.RES.latest (SDSS ugriz = 156-160)",
    ),
    Row(
        "eazy/templates/eazy_v1.3.spectra.param",
        EAZY,
        "templates/eazy_v1.3.spectra.param",
        "378696f39f1ece3fa6c72f13d6321dcdf9c89f299ed745ab82707086faa4fc6d",
        1178,
        "EAZY v1.3 template list (9 templates, paths relative to the eazy/ folder)",
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed1.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed1.dat",
        "89b870c68dbe91f9dae3200514765617f3df20ebb5cee8b8fe3ab03b5af4b099",
        76086,
        EAZY_SED.format(1),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed2.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed2.dat",
        "b3a8dbded1e778793c3d6fba81029c370232f38b9efe276183953d97c1f6455e",
        76086,
        EAZY_SED.format(2),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed3.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed3.dat",
        "da458bb0eacff220d00050979d1a7ed4ae12c4985d97a39e2d46cc4e27243b97",
        76086,
        EAZY_SED.format(3),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed4.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed4.dat",
        "76906c2e78fc4740f0139618af024cc6065cb1f3832697c79dc850e8e88180c3",
        76086,
        EAZY_SED.format(4),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed5.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed5.dat",
        "d1504561d12945f04ad8453819924fe7a8031d53fe81573a1c25f085d20ad84b",
        76086,
        EAZY_SED.format(5),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed6.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed6.dat",
        "3aaebfdf767f38c9a505718a30e3458b1775a19da4d6c78bb4933495afc43aba",
        76086,
        EAZY_SED.format(6),
    ),
    Row(
        "eazy/templates/EAZY_v1.1_lines/eazy_v1.1_sed7.dat",
        EAZY,
        "templates/EAZY_v1.1_lines/eazy_v1.1_sed7.dat",
        "c9762fa3262cc5ff3fac4c1ee238720fa599b84424a2a4684fe41f432ea6e915",
        12636,
        EAZY_SED.format(7),
    ),
    Row(
        "eazy/templates/Dusty/c09_del_8.6_z_0.019_chab_age09.40_av2.0.dat",
        EAZY,
        "templates/Dusty/c09_del_8.6_z_0.019_chab_age09.40_av2.0.dat",
        "5b8aafaa704d1bab09c43d6a2d05ce11b1686709705837ee38f8bf8c0da22dd2",
        31765,
        "EAZY v1.3 dusty old-population template (Av = 2; lambda [A], f_lambda)",
    ),
    Row(
        "eazy/templates/erb2010_highEW.dat",
        EAZY,
        "templates/erb2010_highEW.dat",
        "680a8e9b56ca1f574bd3027782fd845641443754db0aaa74beb1eef23978e4bf",
        47450,
        "EAZY v1.3 high-equivalent-width emission-line template (Erb et al. 2010; lambda [A], "
        "f_lambda)",
    ),
    Row(
        "eazy/templates/TEMPLATE_ERROR.eazy_v1.0",
        EAZY,
        "templates/TEMPLATE_ERROR.eazy_v1.0",
        "ee9524b7a55626324ffafb45fe725730c0e0914e289c182c5e1f935fedc11de2",
        2726,
        "EAZY template error function (rest-frame lambda [A], fractional error)",
    ),
    Row(
        "eazy/templates/LAFcoeff.txt",
        EAZY,
        "templates/LAFcoeff.txt",
        "a8f92be05b17b6f027ce40e2394cf499f98ece3237d3ee9919a3a2aa7fc2ce87",
        2028,
        "Lyman-alpha forest IGM absorption coefficients (Inoue et al. 2014)",
    ),
    Row(
        "eazy/templates/DLAcoeff.txt",
        EAZY,
        "templates/DLAcoeff.txt",
        "ea7b4f8afe91f16430cc7ffeb541a2d51c7a1b6e853d52f2dfd79fd30ceabbe6",
        1560,
        "damped Lyman-alpha system IGM absorption coefficients (Inoue et al. 2014)",
    ),
)
