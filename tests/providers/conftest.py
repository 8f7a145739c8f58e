import pytest

from badapple_dagster.artifacts import LocalArtifactStore
from badapple_dagster.providers.http import RetrySettings
from badapple_dagster.providers.ledger import CallMeter, Ledger
from badapple_dagster.store.jobs import JobStore

from .fakes import ReplicateFake, elevenlabs_fake, openai_fake

FAST_RETRY = RetrySettings(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def store(tmp_path):
    s = JobStore(f"sqlite:///{tmp_path}/jobs.db")
    s.create_job("job-1", product_name="Volt Energy Drink", style="energetic", cta_text="Grab yours today")
    return s


@pytest.fixture
def artifacts(tmp_path):
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def meter_for(store, artifacts):
    def make(stage: str) -> CallMeter:
        return CallMeter(Ledger(store.engine), "job-1", stage, artifacts, key_prefix=f"ads/job-1/{stage}")
    return make


@pytest.fixture
def openai_server(tmp_path):
    srv = openai_fake(tmp=tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def eleven_server(tmp_path):
    srv = elevenlabs_fake(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def replicate_server(tmp_path):
    srv = ReplicateFake(tmp_path)
    yield srv
    srv.stop()
