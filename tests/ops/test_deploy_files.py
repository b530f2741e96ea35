"""Deployment files, validated offline: docker-compose.yml against the Compose specification's JSON schema (vendored
in tests/ops/schemas/), deploy/k3s/ against the Kubernetes schemas shipped by the pinned kubernetes-validate
package, and the Mosquitto production configuration run on the real broker."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import jsonschema
import paho.mqtt.client as mqtt
import pytest
import yaml
from kubernetes_validate import utils as k8s

from tests.servers import find_binary, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
K3S = ROOT / "deploy" / "k3s"
K8S_VERSION = "1.31.0"  # the k3s release the box runs
COMPOSE_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())


def compose_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft201909Validator(COMPOSE_SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid(compose):
    assert compose_errors(compose) == []


def test_compose_validation_bites(compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["web"]["helthcheck"] = {"test": ["CMD", "true"]}
    broken["services"]["db"]["restart"] = ["always"]
    errors = compose_errors(broken)
    assert any("helthcheck" in e for e in errors) and any("restart" in e for e in errors)


def test_compose_services_have_health_checks_restart_and_volumes(compose):
    services = compose["services"]
    expected = {"db", "redis", "mosquitto", "migrate", "web", "gateway", "worker", "beat", "forwarder"}
    assert expected <= set(services)
    assert re.fullmatch(r"timescale/timescaledb:\d+\.\d+\.\d+-pg\d+", services["db"]["image"])  # official, pinned
    for name, service in services.items():
        image = service.get("image", "")
        assert ":latest" not in image and (":" in image or "build" in service), name
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, name
    assert {"pgdata", "redisdata", "mqttdata", "media"} <= set(compose["volumes"])
    assert "daphne" in services["web"]["command"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_has_no_secret_values(compose):
    secretish = re.compile(r"(?i)password|secret|passphrase|token|_key$")
    checked = 0
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if secretish.search(key):
                checked += 1
                assert "${" in str(value) or str(value).startswith("/run/secrets/"), f"{name}.{key}"
            for creds in re.findall(r"://[^:/\s]*:([^@\s]+)@", str(value)):
                assert creds.startswith("${"), f"{name}.{key} embeds a password"
        command = service.get("command") or []
        if "--requirepass" in command:
            assert command[command.index("--requirepass") + 1].startswith("${"), name
    assert checked >= 3
    assert compose["secrets"]["secret_key"] == {"file": "./secrets/secret_key"}
    env_example = (ROOT / ".env.example").read_text()
    for line in env_example.splitlines():
        if re.match(r"(POSTGRES_PASSWORD|REDIS_PASSWORD|OPS_BACKUP_PASSPHRASE)=", line):
            assert line.endswith("="), line  # placeholders only


def k3s_documents(pattern: str = "*.yaml"):
    for path in sorted(K3S.glob(pattern)) + sorted((K3S / "templates").glob(pattern)):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.relative_to(K3S), doc


def test_k3s_manifests_validate_against_kubernetes_schemas():
    seen = []
    for path, doc in k3s_documents():
        try:
            k8s.validate(doc, K8S_VERSION, strict=True)
        except k8s.ValidationError as exc:
            pytest.fail(f"{path} {doc.get('kind')}/{doc['metadata'].get('name')}: {exc.message} at {exc.json_path}")
        seen.append((doc["kind"], doc["metadata"]["name"]))
    kinds = {kind for kind, _ in seen}
    assert {"Namespace", "Secret", "ConfigMap", "Deployment", "StatefulSet", "Service", "Ingress",
            "HorizontalPodAutoscaler", "PersistentVolumeClaim"} <= kinds
    deployments = {name for kind, name in seen if kind == "Deployment"}
    assert {"web", "gateway", "worker", "beat", "forwarder", "redis", "mosquitto"} <= deployments


def test_k3s_validation_bites():
    doc = next(d for _, d in k3s_documents("web.yaml") if d["kind"] == "Deployment")
    broken = json.loads(json.dumps(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(k8s.ValidationError):
        k8s.validate(broken, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(doc))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(k8s.ValidationError):
        k8s.validate(broken, K8S_VERSION, strict=True)


def test_k3s_workloads_have_resources_and_probes():
    for path, doc in k3s_documents():
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            where = f"{path}:{container['name']}"
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
            assert "livenessProbe" in container and "readinessProbe" in container, where
    web = next(d for _, d in k3s_documents("web.yaml") if d["kind"] == "Deployment")
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    hpa = next(d for _, d in k3s_documents("web.yaml") if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "web"
    tsdb = next(d for _, d in k3s_documents("timescaledb.yaml") if d["kind"] == "StatefulSet")
    assert tsdb["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]


def test_k3s_secrets_are_templates_only():
    secrets = [(p, d) for p, d in k3s_documents() if d["kind"] == "Secret"]
    assert secrets and all(str(p).startswith("templates/") for p, _ in secrets)
    for path, doc in secrets:
        for key, value in (doc.get("stringData") or {}).items():
            assert "REPLACE-ME" in value, f"{path}: {key} holds a value"
        assert "data" not in doc, path


def test_k3s_mosquitto_config_matches_the_shipped_file():
    shipped = (ROOT / "deploy" / "mosquitto" / "acl").read_text()
    configmap = next(d for _, d in k3s_documents("configmap.yaml") if d["metadata"]["name"] == "mosquitto-config")
    strip = lambda text: [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]  # noqa: E731
    assert strip(configmap["data"]["acl"]) == strip(shipped)
    assert "allow_anonymous false" in configmap["data"]["mosquitto.conf"]
    assert "listener 8883" in configmap["data"]["mosquitto.conf"]


# --- the Mosquitto production configuration, on the real broker -----------------------------------------------
def _make_certs(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Wellsite test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
    (directory / "server.crt").write_bytes(cert.public_bytes(pem))
    (directory / "server.key").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))


@pytest.fixture(scope="module")
def production_broker(tmp_path_factory):
    mosquitto = find_binary("mosquitto", ("/usr/sbin/mosquitto",))
    passwd_tool = find_binary("mosquitto_passwd")
    if not mosquitto or not passwd_tool:
        pytest.skip("mosquitto / mosquitto_passwd not installed")
    tmp = tmp_path_factory.mktemp("mosquitto")
    _make_certs(tmp)
    port = free_port()
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    conf = (conf.replace("/mosquitto/config/", f"{tmp}/").replace("/mosquitto/certs/", f"{tmp}/")
            .replace("/mosquitto/data/", f"{tmp}/").replace("listener 8883", f"listener {port} 127.0.0.1"))
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        conf += "\nuser root\n"
    (tmp / "mosquitto.conf").write_text(conf)
    shutil.copy(ROOT / "deploy" / "mosquitto" / "acl", tmp / "acl")
    (tmp / "passwd").write_text("")
    for user, password in (("wellsite-gateway", "gw-pass-123"), ("rtu-sa1-01", "rtu1-pass"), ("rtu-sa1-02", "rtu2")):
        subprocess.run([passwd_tool, "-b", str(tmp / "passwd"), user, password], check=True, capture_output=True)
    proc = subprocess.Popen([mosquitto, "-c", str(tmp / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc, name="Mosquitto (production config)")
        yield {"port": port, "ca": str(tmp / "ca.crt")}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(broker, username=None, password=None, tls=True):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{username}-{time.monotonic_ns()}")
    if tls:
        client.tls_set(ca_certs=broker["ca"], cert_reqs=ssl.CERT_REQUIRED)
    if username:
        client.username_pw_set(username, password)
    result = {}
    client.on_connect = lambda c, u, flags, reason, props: result.setdefault("rc", reason)
    return client, result


def _connect(broker, username=None, password=None, tls=True):
    client, result = _client(broker, username, password, tls)
    client.connect("localhost", broker["port"], keepalive=10)
    client.loop_start()
    deadline = time.monotonic() + 10
    while "rc" not in result and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, result.get("rc")


def test_mosquitto_refuses_anonymous_and_wrong_password(production_broker):
    client, rc = _connect(production_broker)
    client.loop_stop()
    assert rc is not None and rc.is_failure
    client, rc = _connect(production_broker, "rtu-sa1-01", "wrong")
    client.loop_stop()
    assert rc is not None and rc.is_failure


def test_mosquitto_refuses_plain_tcp(production_broker):
    with socket.create_connection(("127.0.0.1", production_broker["port"]), timeout=5) as sock:
        # An MQTT CONNECT in clear text: the TLS listener answers with a TLS alert or closes, never a CONNACK.
        sock.sendall(bytes.fromhex("101000044d5154540402003c0004746573740000"))
        sock.settimeout(5)
        try:
            data = sock.recv(16)
        except (ConnectionResetError, TimeoutError):
            data = b""
    assert not data.startswith(b"\x20")


def test_mosquitto_acl_limits_each_device_to_its_topics(production_broker):
    received: list[tuple[str, bytes]] = []
    gateway, rc = _connect(production_broker, "wellsite-gateway", "gw-pass-123")
    assert rc is not None and not rc.is_failure
    subscribed = []
    gateway.on_subscribe = lambda *a: subscribed.append(True)
    gateway.on_message = lambda c, u, msg: received.append((msg.topic, msg.payload))
    gateway.subscribe("spBv1.0/#", qos=1)
    deadline = time.monotonic() + 5
    while not subscribed and time.monotonic() < deadline:
        time.sleep(0.02)
    device, rc = _connect(production_broker, "rtu-sa1-01", "rtu1-pass")
    assert rc is not None and not rc.is_failure
    device.publish("spBv1.0/FA/NDATA/rtu-sa1-01", b"own", qos=1).wait_for_publish(5)
    device.publish("spBv1.0/FA/NDATA/rtu-sa1-02", b"spoofed", qos=1).wait_for_publish(5)
    device.publish("spBv1.0/FA/NCMD/rtu-sa1-01", b"self-command", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let any denied message arrive if the ACL were open
    for client in (device, gateway):
        client.loop_stop()
        client.disconnect()
    assert received == [("spBv1.0/FA/NDATA/rtu-sa1-01", b"own")]
