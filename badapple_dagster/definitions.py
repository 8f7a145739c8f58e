"""The badapple code location: assets, the asset job, sensors and resources.

Loaded by `dagster dev -w workspace.yaml`, the code server and every run worker, so it imports only what the
definitions need; media code is imported inside the assets.
"""

from __future__ import annotations

import os

import dagster as dg

from .assets.ad import AD_ASSETS
from .assets.mv import MV_ASSETS
from .names import AD_JOB_NAME, MV_JOB_NAME
from .resources import JobStoreResource, ProgressResource, default_artifact_resource
from .sensors import job_progress_sensor

# The in-process executor: a subprocess per step costs ~1.5 s on 2 cores, in-process keeps a 4-stage run's
# orchestration overhead near 0.5 s. Set on Definitions so UI "Materialize" runs (the implicit asset job)
# use it too.
ad_video_job = dg.define_asset_job(
    AD_JOB_NAME,
    selection=dg.AssetSelection.assets(*AD_ASSETS),
    description="Brief -> script -> voice -> scene clips -> final ad, for one job (partition).",
)
mv_video_job = dg.define_asset_job(
    MV_JOB_NAME,
    selection=dg.AssetSelection.assets(*MV_ASSETS),
    description="Concept -> scenes -> character reference -> clips -> beat-cut music video, per project x flavor.",
)


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*AD_ASSETS, *MV_ASSETS],
        jobs=[ad_video_job, mv_video_job],
        sensors=[job_progress_sensor],
        resources={
            "jobs": JobStoreResource(),
            "artifacts": default_artifact_resource(),
            "progress": ProgressResource(in_asset=os.environ.get("BADAPPLE_ASSET_PROGRESS", "on") != "off"),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions()
