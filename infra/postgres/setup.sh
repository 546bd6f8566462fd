#!/usr/bin/env bash
# PostgreSQL 15 with the q3c sky index (Koposov & Bartunov 2006), from Debian packages.
# Used by the catalogue database sink (src/adapters/postgres.ts) and its integration tests.
# Also astropy-healpix, the reference the HEALPix index test (_healpix_29) checks against.
. "$(dirname "$0")/../lib.sh"
ensure_apt postgresql postgresql-15-q3c
ensure_pip astropy_healpix=astropy-healpix
# STIL, the table library of TOPCAT/STILTS, for the "TOPCAT reads our catalogues" interop test
# (from Maven Central into ~/.m2; snakeyaml is its ECSV reader's dependency).
if command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
  for a in uk/ac/starlink/stil/4.3.5/stil-4.3.5.jar:uk.ac.starlink:stil:4.3.5 org/yaml/snakeyaml/2.2/snakeyaml-2.2.jar:org.yaml:snakeyaml:2.2; do
    jar="$HOME/.m2/repository/${a%%:*}"
    [ -f "$jar" ] || { log "mvn dependency:get ${a#*:}"; mvn -q -B dependency:get -Dartifact="${a#*:}" >&2; }
  done
fi
