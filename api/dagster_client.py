"""A small async client for the three Dagster GraphQL operations the API needs.

dagster-graphql's own client is synchronous (requests) and has no dynamic-partition helper, and the API must
never block its event loop, so the documents are posted with httpx.AsyncClient. Transport failures and 5xx
answers raise ``DagsterUnavailable`` (worth retrying); GraphQL-level refusals raise ``DagsterRefused``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from badapple_dagster.names import AD_JOB_NAME, AD_JOBS

LOCATION_NAME = "badapple"
REPOSITORY_NAME = "__repository__"  # the repository name of Definitions-based code
JOB_NAME = AD_JOB_NAME
PARTITIONS_DEF_NAME = AD_JOBS
JOB_ID_TAG = "badapple/job_id"
PARTITION_TAG = "dagster/partition"

ADD_PARTITION = """
mutation AddPartition($selector: RepositorySelector!, $partitionsDefName: String!, $partitionKey: String!) {
  addDynamicPartition(repositorySelector: $selector, partitionsDefName: $partitionsDefName,
                      partitionKey: $partitionKey) {
    __typename
    ... on Error { message }
  }
}
"""

LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUNS_FOR_JOB = """
query RunsForJob($filter: RunsFilter!) {
  runsOrError(filter: $filter, limit: 1) {
    __typename
    ... on Runs { results { runId status } }
    ... on Error { message }
  }
}
"""

VERSION = "{ version }"


class DagsterUnavailable(Exception):
    """The webserver could not be reached or answered with a server error: retry later."""


class DagsterRefused(Exception):
    """The webserver answered but refused the operation (e.g. the code location is not loaded yet)."""


@dataclass(frozen=True)
class ExistingRun:
    run_id: str
    status: str


class DagsterClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            # Few, long-lived connections: launches are serialised by the launcher's own concurrency limit.
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        )

    @property
    def repository_selector(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION_NAME, "repositoryName": REPOSITORY_NAME}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = await self._http.post("/graphql", json={"query": query, "variables": variables or {}})
        except httpx.HTTPError as exc:
            raise DagsterUnavailable(f"Dagster webserver unreachable at {self.base_url}: "
                                     f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 500:
            raise DagsterUnavailable(f"Dagster webserver answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError:
            raise DagsterUnavailable(f"Dagster webserver answered HTTP {resp.status_code} without JSON") from None
        if body.get("errors"):
            messages = "; ".join(str(e.get("message", e)) for e in body["errors"])[:500]
            raise DagsterRefused(f"GraphQL error: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise DagsterRefused(f"GraphQL answer without data (HTTP {resp.status_code})")
        return data

    async def version(self) -> str:
        data = await self._graphql(VERSION)
        return str(data.get("version", ""))

    async def add_partition(self, key: str, partitions_def: str = PARTITIONS_DEF_NAME) -> None:
        data = await self._graphql(
            ADD_PARTITION,
            {"selector": self.repository_selector, "partitionsDefName": partitions_def, "partitionKey": key},
        )
        result = data["addDynamicPartition"]
        kind = result["__typename"]
        # The mutation is not idempotent: a key that already exists is an error, which for us means done.
        if kind in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            return
        raise DagsterRefused(f"addDynamicPartition: {kind}: {result.get('message', '')}")

    async def find_run(self, job_id: str, tags: Mapping[str, str] | None = None) -> ExistingRun | None:
        """The run launched for ``job_id`` earlier (by any replica), found by its tag (or by ``tags``)."""
        wanted = tags or {JOB_ID_TAG: job_id}
        data = await self._graphql(
            RUNS_FOR_JOB, {"filter": {"tags": [{"key": k, "value": v} for k, v in wanted.items()]}}
        )
        result = data["runsOrError"]
        if result["__typename"] != "Runs":
            raise DagsterRefused(f"runsOrError: {result['__typename']}: {result.get('message', '')}")
        runs = result["results"]
        return ExistingRun(runs[0]["runId"], runs[0]["status"]) if runs else None

    async def launch_job_run(
        self, job_id: str, *, job_name: str = JOB_NAME, tags: Mapping[str, str] | None = None
    ) -> str:
        run_tags = tags or {PARTITION_TAG: job_id, JOB_ID_TAG: job_id}
        params = {
            "selector": {**self.repository_selector, "jobName": job_name},
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in run_tags.items()]},
        }
        data = await self._graphql(LAUNCH_RUN, {"executionParams": params})
        result = data["launchRun"]
        kind = result["__typename"]
        if kind == "LaunchRunSuccess":
            return str(result["run"]["runId"])
        detail = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
        raise DagsterRefused(f"launchRun: {kind}: {detail}"[:1000])
