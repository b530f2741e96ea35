"""Sparkplug B against a real Mosquitto and the real gateway: birth -> data (by alias) -> death (Stale) -> rebirth
requested on a sequence gap and on data before birth; malformed payloads and unknown aliases in the dead letters."""

from __future__ import annotations

import pytest

from scada.drivers import sparkplug_b_pb2 as pb
from scada.drivers.sparkplug import SparkplugNode, metric_value
from scada.runtime.samples import BAD, GOOD, STALE
from scada.sim_mqtt import SparkplugEdgeNode
from tests.scada.mqtt_helpers import (
    GatewayThread,
    Publisher,
    mqtt_device,
    rows,
    wait_for,
)


def test_metric_values_signed_types_null_and_quality_property():
    m = pb.Payload.Metric(datatype=pb.DataType.Int16, int_value=(1 << 32) - 5)
    assert metric_value(m, m.datatype) == (-5.0, GOOD)
    m = pb.Payload.Metric(datatype=pb.DataType.Int8, int_value=0xFB)
    assert metric_value(m, m.datatype) == (-5.0, GOOD)
    m = pb.Payload.Metric(datatype=pb.DataType.Int64, long_value=(1 << 64) - 7)
    assert metric_value(m, m.datatype) == (-7.0, GOOD)
    m = pb.Payload.Metric(datatype=pb.DataType.Double, is_null=True)
    assert metric_value(m, m.datatype) == (None, BAD)
    m = pb.Payload.Metric(datatype=pb.DataType.Float, float_value=1.5)
    m.properties.keys.append("Quality")
    m.properties.values.add(type=pb.DataType.Int32, int_value=64)
    assert metric_value(m, m.datatype) == (1.5, 1)
    with pytest.raises(ValueError, match="String"):
        metric_value(pb.Payload.Metric(datatype=pb.DataType.String, string_value="x"), pb.DataType.String)


def test_node_state_machine_sequence_and_bdseq():
    node = SparkplugNode("g", "n1", {"W01/DH_P": 7})
    birth = pb.Payload(timestamp=1000, seq=0)
    birth.metrics.add(name="bdSeq", datatype=pb.DataType.Int64, long_value=3)
    samples, errors = node.handle("spBv1.0/g/NBIRTH/n1", birth.SerializeToString(), 0)
    assert node.born and node.bd_seq == 3 and samples == [] and errors == []
    dbirth = pb.Payload(timestamp=2000, seq=1)
    dbirth.metrics.add(name="DH_P", alias=11, datatype=pb.DataType.Double, double_value=180.5)
    dbirth.metrics.add(name="SERIAL", alias=12, datatype=pb.DataType.String, string_value="A1")  # no tag: ignored
    samples, errors = node.handle("spBv1.0/g/DBIRTH/n1/W01", dbirth.SerializeToString(), 0)
    assert [(s.key, s.ts, s.value) for s in samples] == [(7, 2.0, 180.5)] and errors == []
    data = pb.Payload(timestamp=3000, seq=2)
    data.metrics.add(alias=11, double_value=181.0)
    data.metrics.add(alias=99, double_value=1.0)
    samples, errors = node.handle("spBv1.0/g/DDATA/n1/W01", data.SerializeToString(), 0)
    assert [(s.key, s.value) for s in samples] == [(7, 181.0)]
    assert errors[0][1] == "unknown alias 99 (not in the birth)"
    node.rebirth_wanted = False
    gap = pb.Payload(timestamp=4000, seq=5)
    gap.metrics.add(alias=11, double_value=182.0)
    samples, _ = node.handle("spBv1.0/g/DDATA/n1/W01", gap.SerializeToString(), 0)
    assert samples[0].value == 182.0 and node.rebirth_wanted and "sequence gap" in node.rebirth_reason
    old_will = pb.Payload()
    old_will.metrics.add(name="bdSeq", datatype=pb.DataType.Int64, long_value=2)
    assert node.handle("spBv1.0/g/NDEATH/n1", old_will.SerializeToString(), 9) == ([], [])  # older session
    will = pb.Payload()
    will.metrics.add(name="bdSeq", datatype=pb.DataType.Int64, long_value=3)
    samples, _ = node.handle("spBv1.0/g/NDEATH/n1", will.SerializeToString(), 9.0)
    assert [(s.key, s.value, s.quality) for s in samples] == [(7, 182.0, STALE)] and not node.born
    topic, payload = node.take_rebirth_request(100.0)
    request = pb.Payload.FromString(payload)
    assert topic == "spBv1.0/g/NCMD/n1" and request.metrics[0].name == "Node Control/Rebirth"
    assert request.metrics[0].boolean_value is True
    assert node.take_rebirth_request(101.0) is None  # at most one per REBIRTH_MIN_INTERVAL_S


@pytest.mark.usefixtures("clean_historian")
def test_birth_data_death_stale_and_rebirth_on_sequence_gap(mqtt_url):
    from scada.ingest.models import DeadLetter

    device, tags = mqtt_device(mqtt_url, {"SPB.W01.DH_P": "W01/DH_P", "SPB.W02.DH_P": "W02/DH_P",
                                          "SPB.NODE.UPTIME": "UPTIME"},
                               sparkplug=True, group_id="wellsite-test", edge_node_id="gauges-t1")
    w01, w02, uptime = tags["SPB.W01.DH_P"], tags["SPB.W02.DH_P"], tags["SPB.NODE.UPTIME"]
    gw = GatewayThread().start()
    node = SparkplugEdgeNode(mqtt_url, "wellsite-test", "gauges-t1", {"W01": {"DH_P": 180.0}, "W02": {"DH_P": 175.0}},
                             node_metrics={"UPTIME": 1.0})
    try:
        wait_for(lambda: gw.connected(device), what="connected")
        node.auto_birth = False
        node.start()
        # data before any birth: dropped, and the host asks for a rebirth; the node answers with NBIRTH + DBIRTHs
        node.data("W01", {"DH_P": 999.0}).wait_for_publish(10)
        wait_for(lambda: node.rebirths >= 1, what="rebirth request for data before birth")
        expected = ((w01, 180.0), (w02, 175.0), (uptime, 1.0))
        wait_for(lambda: all(gw.current(t) and gw.current(t)[:2] == (v, GOOD) for t, v in expected),
                 what="birth values")
        assert not any(r[2] == 999.0 for r in rows(w01.key))

        node.data("W01", {"DH_P": 181.5}, ts_ms=1_767_225_600_000).wait_for_publish(10)
        node.data("", {"UPTIME": 2.0}).wait_for_publish(10)
        wait_for(lambda: gw.current(w01)[:2] == (181.5, GOOD) and gw.current(uptime)[:2] == (2.0, GOOD))
        wait_for(lambda: (w01.key, 1_767_225_600.0, 181.5, GOOD) in rows(w01.key),  # time from the payload
                 what="the DDATA row committed")

        rebirths = node.rebirths
        node.skip_seq(3)  # three messages "lost": the next one shows a gap
        node.data("W02", {"DH_P": 176.25}).wait_for_publish(10)
        wait_for(lambda: node.rebirths > rebirths, what="rebirth request after a sequence gap")
        wait_for(lambda: gw.current(w02)[:2] == (175.0, GOOD), what="values of the rebirth")

        pub = Publisher(mqtt_url)
        pub.sync([pub.send("spBv1.0/wellsite-test/DDATA/gauges-t1/W01", b"\x0a\xff\xff garbage")])
        pub.close()
        wait_for(lambda: DeadLetter.objects.filter(source="sparkplug").exists(), what="dead letter")
        letter = DeadLetter.objects.get(source="sparkplug")
        assert letter.topic == "spBv1.0/wellsite-test/DDATA/gauges-t1/W01"
        assert letter.reason.startswith("malformed Sparkplug B payload (DDATA)")

        node.die()  # the broker publishes the node's will: NDEATH with the current bdSeq
        wait_for(lambda: all(gw.current(t)[1] == STALE for t in (w01, w02, uptime)), what="Stale after NDEATH")
        assert gw.current(w01)[0] is not None  # the last value, flagged Stale (never shown as current)
        assert gw.connected(device)  # the node died, not the broker connection
        wait_for(lambda: any(q == STALE for _k, _ts, _v, q in rows(w01.key)), what="the Stale row committed")
    finally:
        node.client.loop_stop()
        gw.stop()
