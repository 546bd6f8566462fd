#!/usr/bin/env python3
"""Runs PyBDSF on one FITS image and writes its source list as a small CSV.

Used by `deepsource compare` (src/eval/finders/pybdsf.ts). As in the paper (section 3), PyBDSF
finds islands above an island threshold, keeps those whose peak is above a pixel threshold, fits
Gaussians and groups them into sources; we report the sources (the srl catalogue).

usage: pybdsf_driver.py IMAGE.fits OUT.csv --thresh-isl S --thresh-pix S [--rms-box N,M]

The CSV has one row per source: ra_deg, dec_deg (the fitted centroid; pixel positions come from
our WCS on the TypeScript side), peak_flux (Jy/beam), total_flux (Jy) and isl_rms (Jy/beam). The file is written to a temporary name and renamed.
"""
import argparse
import csv
import logging
import os
import sys
import warnings


def header_has_frequency(path: str) -> bool:
    """PyBDSF needs a frequency: a FREQ axis, RESTFRQ/RESTFREQ or FREQ keyword."""
    from astropy.io import fits
    header = fits.getheader(path)
    if any(k in header for k in ("RESTFRQ", "RESTFREQ", "FREQ")):
        return True
    return any(str(header.get("CTYPE%d" % i, "")).startswith("FREQ") for i in range(3, int(header.get("NAXIS", 2)) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("out")
    parser.add_argument("--thresh-isl", type=float, default=2.0)
    parser.add_argument("--thresh-pix", type=float, default=2.0)
    parser.add_argument("--rms-box", default=None, help="box,step in pixels for the rms map")
    parser.add_argument("--frequency", type=float, default=1.4e9,
                        help="observing frequency in Hz, used when the header has none (paper: 1400 MHz)")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    import bdsf  # noqa: E402  (slow import; after argument checks)

    kwargs = dict(
        thresh="hard",
        thresh_isl=args.thresh_isl,
        thresh_pix=args.thresh_pix,
        quiet=True,
        ncores=1,
        output_opts=False,
    )
    if not header_has_frequency(args.image):
        kwargs["frequency"] = args.frequency
    if args.rms_box:
        box, step = (int(v) for v in args.rms_box.split(","))
        kwargs["rms_box"] = (box, step)
    # PyBDSF writes a log next to the image; keep it out of the data directory.
    kwargs["debug"] = False
    img = bdsf.process_image(args.image, **kwargs)
    tmp = args.out + ".tmp-%d" % os.getpid()
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ra_deg", "dec_deg", "peak_flux", "total_flux", "isl_rms"])
        for src in getattr(img, "sources", []) or []:
            ra, dec = src.posn_sky_centroid
            w.writerow([repr(float(ra)), repr(float(dec)),
                        repr(float(src.peak_flux_max)), repr(float(src.total_flux)), repr(float(src.rms_isl))])
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
