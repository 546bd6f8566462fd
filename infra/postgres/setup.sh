#!/usr/bin/env bash
# PostgreSQL 15 with the q3c sky index (Koposov & Bartunov 2006), from Debian packages.
# Used by the catalogue database sink (src/adapters/postgres.ts) and its integration tests.
# Also astropy-healpix, the reference the HEALPix index test (_healpix_29) checks against.
. "$(dirname "$0")/../lib.sh"
ensure_apt postgresql postgresql-15-q3c
ensure_pip astropy_healpix=astropy-healpix
