"""Music-video projects and sweeps in the job store.

A project holds the creative inputs (concept, character, optional song and reference image). Each flavor
variant of it is one partition (project × variant) and one ``jobs`` row of kind "mv", so progress flows
through the same ``apply_event`` rules, Redis channels and WebSocket endpoint as ad jobs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from .jobs import JobRecord, JobStore, utcnow
from .tables import mv_projects, mv_sweeps, mv_variants

MV_STAGES = ("mv_scenes", "character_reference", "mv_clips", "music_video")


def mv_job_id(project_id: str, variant: str) -> str:
    return f"{project_id}--{variant}"


def variant_key(flavor: str, overrides: dict[str, Any] | None = None) -> str:
    """The flavor partition key of a variant: the flavor, plus its grid point when it has one."""
    if not overrides:
        return flavor
    parts = [f"{k}-{overrides[k]}" for k in sorted(overrides)]
    key = "--".join([flavor, *parts])
    # Only characters that are safe in partition keys, artifact keys, URLs and S3 keys alike.
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:128]


@dataclass
class MvVariant:
    variant: str
    flavor: str
    overrides: dict[str, Any]
    job: JobRecord


@dataclass
class MvProject:
    id: str
    created_at: datetime
    concept: str
    character_description: str
    audio_key: str | None
    reference_image_key: str | None
    options: dict[str, Any]
    sweep_id: str | None
    variants: list[MvVariant] = field(default_factory=list)

    def variant(self, key: str) -> MvVariant | None:
        return next((v for v in self.variants if v.variant == key), None)


class MvStore:
    def __init__(self, jobs: JobStore) -> None:
        self.jobs = jobs
        self.engine = jobs.engine

    def create_project(
        self,
        project_id: str,
        *,
        concept: str,
        character_description: str,
        variants: list[tuple[str, dict[str, Any]]],
        audio_key: str | None = None,
        reference_image_key: str | None = None,
        options: dict[str, Any] | None = None,
        sweep_id: str | None = None,
    ) -> MvProject:
        """``variants``: (flavor, overrides) pairs; each becomes a partition and a job."""
        # The provider chains travel with each variant's job too, so the launcher can tag its run by provider.
        providers = {k: v for k, v in (options or {}).items() if k.endswith("_provider") and v}
        with self.engine.begin() as conn:
            conn.execute(insert(mv_projects).values(
                id=project_id, created_at=utcnow(), concept=concept, character_description=character_description,
                audio_key=audio_key, reference_image_key=reference_image_key, options=json.dumps(options or {}),
                sweep_id=sweep_id,
            ))
        for flavor, overrides in variants:
            key = variant_key(flavor, overrides)
            job_id = mv_job_id(project_id, key)
            self.jobs.create_job(job_id, product_name=concept[:100], style=flavor, cta_text="", kind="mv",
                                 stage_names=MV_STAGES, options={"project_id": project_id, "variant": key,
                                                                 "flavor": flavor, "overrides": overrides,
                                                                 **providers})
            with self.engine.begin() as conn:
                conn.execute(insert(mv_variants).values(project_id=project_id, variant=key, flavor=flavor,
                                                        overrides=json.dumps(overrides), job_id=job_id))
        project = self.get_project(project_id)
        assert project is not None
        return project

    def get_project(self, project_id: str) -> MvProject | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(mv_projects).where(mv_projects.c.id == project_id)).mappings().first()
            if row is None:
                return None
            vrows = list(conn.execute(select(mv_variants).where(mv_variants.c.project_id == project_id)
                                      .order_by(mv_variants.c.variant)).mappings())
        found = {j.id: j for j in self.jobs.get_jobs([v["job_id"] for v in vrows])}
        variants = [MvVariant(v["variant"], v["flavor"], json.loads(v["overrides"]), found[v["job_id"]])
                    for v in vrows if v["job_id"] in found]
        return MvProject(
            id=row["id"], created_at=row["created_at"], concept=row["concept"],
            character_description=row["character_description"], audio_key=row["audio_key"],
            reference_image_key=row["reference_image_key"], options=json.loads(row["options"] or "{}"),
            sweep_id=row["sweep_id"], variants=variants,
        )

    def create_sweep(self, sweep_id: str, project_id: str, spec: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(mv_sweeps).values(id=sweep_id, created_at=utcnow(), project_id=project_id,
                                                  spec=json.dumps(spec)))
            conn.execute(update(mv_projects).where(mv_projects.c.id == project_id).values(sweep_id=sweep_id))

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(mv_sweeps).where(mv_sweeps.c.id == sweep_id)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "created_at": row["created_at"], "project_id": row["project_id"],
                "spec": json.loads(row["spec"]), "report_key": row["report_key"]}

    def set_sweep_report(self, sweep_id: str, report_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(mv_sweeps).where(mv_sweeps.c.id == sweep_id).values(report_key=report_key))
