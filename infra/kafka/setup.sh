#!/usr/bin/env bash
# Installs the Kafka broker jars (Maven Central, cached in ~/.m2) into $STATE_DIR/kafka/libs.
# Idempotent: skipped when the pom has not changed since the last copy.
. "$(dirname "$0")/../lib.sh"
cd "$INFRA_ROOT/kafka"
libs="$STATE_DIR/kafka/libs"
stamp="$STATE_DIR/kafka/pom.sha"
want=$(sha256sum pom.xml | cut -d' ' -f1)
# java runs the broker; keytool (same package) makes the test listener's TLS certificate.
command -v java >/dev/null && command -v keytool >/dev/null || ensure_apt openjdk-17-jre-headless
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1; then exit 0; fi
command -v mvn >/dev/null || ensure_apt maven
log "mvn dependency:copy-dependencies (kafka) -> $libs"
rm -rf "$libs.tmp"
mvn -q -B -f pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >&2
rm -rf "$libs" && mv "$libs.tmp" "$libs"
echo "$want" > "$stamp"
