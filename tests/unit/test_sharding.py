"""`batchops run --shard i/N`: which shard owns a namespace, the watch-stream filter that keeps
another shard's objects away from kopf, and the settings the command line makes of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from kopf._cogs.clients import watching

from batchops import cli
from batchops.config import OperatorConfig
from batchops.handlers import account, running, watch_stream
from batchops.model.sharding import Shard, shard_of

NAMESPACES = [f"team-{i}" for i in range(200)] + ["default", "kube-system", "a", "x" * 63]


@pytest.mark.parametrize("text", ["2/2", "0/0", "x", "1", "/2", "1/", "-1/2", "1/2/3", "a/b", ""])
def test_a_malformed_or_out_of_range_shard_is_refused_with_what_was_given(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        Shard.parse(text)


def test_an_index_past_the_count_says_how_shards_are_numbered() -> None:
    with pytest.raises(ValueError, match=r"not in 0\.\.1"):
        Shard.parse("2/2")


def test_a_shard_is_written_and_read_as_i_of_n() -> None:
    assert Shard.parse("1/3") == Shard(1, 3)
    assert Shard.parse(" 0/1 ") == Shard(0, 1)
    assert str(Shard(1, 3)) == "1/3"


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_namespace_is_owned_by_exactly_one_shard(count: int) -> None:
    shards = [Shard(index, count) for index in range(count)]
    owners = {ns: [s.index for s in shards if s.owns(ns)] for ns in NAMESPACES}
    assert all(len(found) == 1 for found in owners.values()), owners
    # 200 names leave no shard empty: the hash spreads them.
    assert {found[0] for found in owners.values()} == set(range(count))


def test_the_owner_is_the_same_in_every_process() -> None:
    # SHA-256, not Python's per-process salted hash(): these never change.
    assert [shard_of(ns, 2) for ns in ("default", "team-a", "team-b")] == [1, 0, 1]
    assert [shard_of(ns, 4) for ns in ("default", "team-a", "team-b")] == [3, 0, 3]


# --- the watch-stream filter --------------------------------------------------------------------

SHARD = Shard(0, 2)
MINE = next(ns for ns in NAMESPACES if SHARD.owns(ns))
THEIRS = next(ns for ns in NAMESPACES if not SHARD.owns(ns))


def event(api_version: str, kind: str, namespace: str | None, name: str = "o") -> dict[str, Any]:
    """A raw watch event as kopf's watcher yields it, with managedFields to drop."""
    metadata: dict[str, Any] = {"name": name, "managedFields": [{"manager": "kubectl"}]}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "type": "ADDED",
        "object": {"apiVersion": api_version, "kind": kind, "metadata": metadata},
    }


def streamed(monkeypatch: pytest.MonkeyPatch, events: list[Any], *shards: Shard | None) -> Any:
    """What kopf's watcher reads after `install` was called with each of `shards` in turn."""

    async def kopfs_watch(**_: Any) -> AsyncIterator[Any]:
        for item in events:
            yield item

    monkeypatch.setattr(watching, "infinite_watch", kopfs_watch)
    for shard in shards:
        watch_stream.install(shard)
    installed: Any = watching.infinite_watch

    async def collect() -> list[Any]:
        return [item async for item in installed(resource="r", namespace=None)]

    return asyncio.run(collect())


def test_a_shard_never_passes_on_the_events_of_another_shards_batchops_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mine = event("batchops.io/v1alpha1", "BatchComputeEnvironment", MINE, "mine")
    theirs = event("batchops.io/v1alpha1", "BatchComputeEnvironment", THEIRS, "theirs")
    theirs_deleted = {**event("batchops.io/v1alpha1", "BatchPipeline", THEIRS), "type": "DELETED"}
    seen = streamed(monkeypatch, [theirs, mine, theirs_deleted], SHARD)
    assert [item["object"]["metadata"]["name"] for item in seen] == ["mine"]
    assert "managedFields" not in seen[0]["object"]["metadata"]


def test_cluster_scoped_other_group_and_bookmark_events_pass_every_shard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passing: list[Any] = [
        watching.Bookmark.LISTED,
        event("batchops.io/v1alpha1", "BatchAccount", None),
        event("v1", "Namespace", None, name=THEIRS),
        event("v1", "ConfigMap", THEIRS),
        event("kopf.dev/v1", "KopfPeering", THEIRS),
        # The API server's own BOOKMARK of one of our kinds names no namespace.
        {
            "type": "BOOKMARK",
            "object": {
                "apiVersion": "batchops.io/v1alpha1",
                "kind": "BatchPipeline",
                "metadata": {"resourceVersion": "12"},
            },
        },
        {"type": "ERROR", "object": {"apiVersion": "v1", "kind": "Status", "code": 500}},
    ]
    seen = streamed(monkeypatch, passing, SHARD)
    assert seen == passing
    assert all("managedFields" not in item["object"]["metadata"] for item in seen[1:5])


def test_without_a_shard_every_event_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    everything = [
        event("batchops.io/v1alpha1", "BatchComputeEnvironment", ns) for ns in (MINE, THEIRS)
    ]
    assert len(streamed(monkeypatch, everything, None)) == 2


def test_installing_again_replaces_the_shard_rather_than_stacking_filters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    both = [event("batchops.io/v1alpha1", "BatchJobQueue", ns, ns) for ns in (MINE, THEIRS)]
    seen = streamed(monkeypatch, both, Shard(0, 2), Shard(1, 2))
    assert [item["object"]["metadata"]["name"] for item in seen] == [THEIRS]


# --- settings ----------------------------------------------------------------------------------


def configured(monkeypatch: pytest.MonkeyPatch, *argv: str) -> OperatorConfig:
    """The OperatorConfig `batchops run ARGV` would run the operator with."""
    seen: list[OperatorConfig] = []
    monkeypatch.setattr(running, "run_operator", seen.append)
    assert cli.main(["run", *argv]) == 0
    (config,) = seen
    return config


def test_run_with_a_shard_acts_for_it_and_elects_in_the_shards_own_peering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = configured(monkeypatch, "--peering", "--shard", "1/3")
    assert config.shard == Shard(1, 3)
    assert not config.standalone
    assert config.peering_name == "batchops-shard-1-of-3"


def test_run_without_a_shard_acts_for_every_namespace_in_the_usual_peering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = configured(monkeypatch, "--peering")
    assert config.shard is None
    assert config.peering_name == "batchops"


def test_run_refuses_a_bad_shard_saying_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(running, "run_operator", lambda config: None)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--shard=2/2"])
    assert exit_info.value.code == 2
    assert "argument --shard: shard index 2 is not in 0..1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "writes"),
    [
        (OperatorConfig(), True),
        (OperatorConfig(shard=Shard(0, 2)), True),
        (OperatorConfig(shard=Shard(1, 2)), False),
        (OperatorConfig(namespaces=("team-a",)), False),
    ],
)
def test_only_one_process_writes_batch_account_status(config: OperatorConfig, writes: bool) -> None:
    memo = SimpleNamespace(context=SimpleNamespace(config=config))
    assert account._writes_account_status(memo=memo) is writes
