"""The Bluesky and Reddit studies ``netsupport synth --platforms`` writes name each side once.

They named the focal account and the institution twice, by key and by ``inspector_lane`` (a
Twitter key, standing for the handle the synthetic texts write), so that the stance rules found
them in texts: the report then read "@inspector_lane.bsky.social (bluesky:did:plc:...) and
@inspector_lane", two accounts where the case has one. The rules now get a Bluesky DID's text
forms from the handle the store holds for it (netsupport.io.platforms.in_text), a Reddit key's
from its name, and the studies name each side by key alone.
"""

from __future__ import annotations

import dataclasses

import pytest

from netsupport import synth
from netsupport.ingest import import_paths
from netsupport.io.platforms import bluesky_handles, in_text
from netsupport.report_format import handles, showing
from netsupport.schema import Table
from netsupport.stance import stance_table
from netsupport.stance.tables import read_tables
from netsupport.store import Store
from netsupport.studyfile import load_study
from netsupport.synth_bsky_reddit import bluesky_did, write_platforms

CONFIG = synth.SynthConfig(seed=11, accounts=300, interactions=3000, name="aliases")


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aliases")
    generated = synth.generate(CONFIG)
    synth.write_case(generated, folder)
    write_platforms(generated, folder)
    return generated, folder


def _key(generated, handle: str) -> str:
    return f"bluesky:{bluesky_did(generated.account_ids[generated.handles.index(handle)])}"


def test_the_studies_name_each_side_by_its_key_alone(case):
    generated, folder = case
    bsky = load_study(folder / "study-bluesky.toml")
    assert bsky.focal == (_key(generated, synth.FOCAL),)
    assert bsky.institution == (_key(generated, synth.INSTITUTION),)
    reddit = load_study(folder / "study-reddit.toml")
    assert reddit.focal == (f"reddit:{synth.FOCAL}",)
    assert reddit.institution == (f"reddit:{synth.INSTITUTION}",)


def test_the_focal_did_is_one_account_found_in_texts_by_its_handle(case, tmp_path):
    _, folder = case
    study = load_study(folder / "study-bluesky.toml")
    study = dataclasses.replace(
        study,
        store_dir=tmp_path / "store",
        stance=dataclasses.replace(study.stance, labels=None),  # (no model to train)
    )
    import_paths(Store(study.store_dir), [folder / "bluesky-jetstream.ndjson"])
    tables = read_tables(study.store_dir)
    key = study.focal[0]
    shown = bluesky_handles(tables[Table.ACCOUNTS], study.focal)
    assert shown == {key: f"@{synth.FOCAL}.bsky.social"}  # the identity event's handle
    assert in_text(study.focal, shown) == (key, f"{synth.FOCAL}.bsky.social", synth.FOCAL)
    with showing(shown):  # the report's name for the side: one account
        assert handles(study.focal) == f"@{synth.FOCAL}.bsky.social ({key})"

    # the stance table is the one the old study's alias gave: the alias is not needed
    st = stance_table(tables, study)
    aliased = dataclasses.replace(
        study,
        focal=(*study.focal, synth.FOCAL),
        institution=(*study.institution, synth.INSTITUTION),
    )
    old = stance_table(tables, aliased)
    assert st.table.equals(old.table)
    rules = st.table["rule"].astype(str)
    assert (~rules.str.startswith(("vader", "no-text", "repost"))).sum() > 100  # texts were read
