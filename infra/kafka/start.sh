#!/usr/bin/env bash
# Starts a single-node Kafka (KRaft: broker + controller) on 127.0.0.1. Idempotent, waits until ready.
# Writes $STATE_DIR/kafka/env with KAFKA_BROKERS (PLAINTEXT), KAFKA_SASL_BROKERS (SASL_PLAINTEXT) and
# KAFKA_SASL_SSL_BROKERS (SASL_SSL, SCRAM-SHA-512, self-signed certificate in KAFKA_CA_FILE) plus the
# generated SCRAM user and password (mode 600, never committed).
# Ports are chosen once and kept, so a restart (stop.sh; start.sh) keeps the same bootstrap address.
. "$(dirname "$0")/../lib.sh"
dir="$STATE_DIR/kafka"
libs="$dir/libs"
pidfile="$dir/kafka.pid"
mkdir -p "$dir"
[ -d "$libs" ] || bash "$INFRA_ROOT/kafka/setup.sh"

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  . "$dir/env"
  if wait_for_port 127.0.0.1 "${KAFKA_BROKERS##*:}" 60; then exit 0; fi
  log "kafka pid $(cat "$pidfile") runs but its port is closed"; exit 1
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -f "$dir/ports" ]; then . "$dir/ports"; fi
if [ -z "${SSL_PORT:-}" ] || ! port_free "$BROKER_PORT" || ! port_free "$SASL_PORT" || ! port_free "$SSL_PORT" || ! port_free "$CONTROLLER_PORT"; then
  BROKER_PORT=$(free_port); SASL_PORT=$(free_port); SSL_PORT=$(free_port); CONTROLLER_PORT=$(free_port)
  printf 'BROKER_PORT=%s\nSASL_PORT=%s\nSSL_PORT=%s\nCONTROLLER_PORT=%s\n' "$BROKER_PORT" "$SASL_PORT" "$SSL_PORT" "$CONTROLLER_PORT" > "$dir/ports"
  rm -rf "$dir/data" # the controller address is part of the formatted quorum: start from empty test storage
fi
if [ ! -f "$dir/scram" ]; then
  (umask 077; printf 'KAFKA_SCRAM_USER=deepsource\nKAFKA_SCRAM_PASSWORD=%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$dir/scram")
fi
. "$dir/scram"
# A self-signed TLS certificate for the SASL_SSL listener (127.0.0.1), generated once; clients
# trust it through $dir/ca.pem. The keystore password is random and stays in the state dir.
if [ ! -f "$dir/broker.p12" ] || [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/tls" ]; then
  rm -f "$dir/broker.p12" "$dir/ca.pem"
  (umask 077; printf 'KEYSTORE_PASSWORD=%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" > "$dir/tls")
  . "$dir/tls"
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=127.0.0.1" \
    -ext "SAN=ip:127.0.0.1,dns:localhost" -keystore "$dir/broker.p12" -storetype PKCS12 \
    -storepass "$KEYSTORE_PASSWORD" -keypass "$KEYSTORE_PASSWORD" >/dev/null 2>&1
  keytool -exportcert -alias broker -keystore "$dir/broker.p12" -storetype PKCS12 -storepass "$KEYSTORE_PASSWORD" -rfc -file "$dir/ca.pem" >/dev/null 2>&1
fi
. "$dir/tls"

cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SASL_SSL://127.0.0.1:$SSL_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SASL_SSL://127.0.0.1:$SSL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/broker.p12
ssl.keystore.password=$KEYSTORE_PASSWORD
ssl.key.password=$KEYSTORE_PASSWORD
log.dirs=$dir/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
log.segment.bytes=16777216
PROPS
cat > "$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.logger.kafka=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS

# Test topics have unique names; keep the data directory from growing without bound across runs.
if [ -d "$dir/data" ] && [ "$(find "$dir/data" -mindepth 1 -maxdepth 1 -type d | wc -l)" -gt 600 ]; then
  log "kafka data holds more than 600 partitions from earlier runs; starting from empty storage"
  rm -rf "$dir/data"
fi
java_cmd=(java -Xms128m -Xmx512m -XX:+UseSerialGC -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$libs/*")
if [ ! -f "$dir/data/meta.properties" ]; then
  log "formatting kafka storage (KRaft)"
  cluster_id=$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)
  "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_SCRAM_USER,password=$KAFKA_SCRAM_PASSWORD]" >&2
fi

log "starting kafka on 127.0.0.1:$BROKER_PORT"
# A fresh log, so the readiness check below cannot match a previous run's "started" line.
[ -f "$dir/server.log" ] && mv -f "$dir/server.log" "$dir/server.log.1"
: > "$dir/server.log"
nohup "${java_cmd[@]}" kafka.Kafka "$dir/server.properties" > "$dir/stdout.log" 2>&1 &
echo $! > "$pidfile"
(umask 077; cat > "$dir/env" <<ENV
KAFKA_BROKERS=127.0.0.1:$BROKER_PORT
KAFKA_SASL_BROKERS=127.0.0.1:$SASL_PORT
KAFKA_SASL_SSL_BROKERS=127.0.0.1:$SSL_PORT
KAFKA_CA_FILE=$dir/ca.pem
KAFKA_SCRAM_USER=$KAFKA_SCRAM_USER
KAFKA_SCRAM_PASSWORD=$KAFKA_SCRAM_PASSWORD
ENV
)
# Ready = the broker registered with the controller and listens (the log line comes after the port opens).
for _ in $(seq 1 300); do
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then log "kafka exited; see $dir/stdout.log"; tail -20 "$dir/stdout.log" >&2; exit 1; fi
  if grep -q "Kafka Server started" "$dir/server.log" "$dir/stdout.log" 2>/dev/null && wait_for_port 127.0.0.1 "$BROKER_PORT" 1; then
    log "kafka ready"; exit 0
  fi
  sleep 0.5
done
log "kafka did not become ready in 150 s; see $dir/server.log"; exit 1
